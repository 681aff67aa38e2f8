"""resolved-conversations and open-conversations: golden scenarios, file options, properties.

Each `golden/conversations/<scenario>/` holds `records.ndjson`,
`requests.json` (named requests: from, to, tz, as_of, channels?, lang?) and,
per request, the expected file of each export checked:
`<request>/<export>.csv`, written by hand (the reasoning is in
`golden/conversations/README.md`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from helpers import (
    EXAMPLE,
    golden_export,
    golden_files,
    golden_stores,
    ingest_records,
    read_ndjson,
    rows,
)

from cxport.exports import ExportRequest, run_export
from cxport.exports.catalogue import ExportDef, columns
from cxport.exports.defs import BY_NAME
from cxport.store import open_store

GOLDEN = Path(__file__).parent / "golden" / "conversations"
EXPECTED = golden_files(GOLDEN)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return golden_stores(GOLDEN, tmp_path_factory.mktemp("golden"))


@pytest.mark.parametrize("expected", EXPECTED, ids=[str(p.relative_to(GOLDEN)) for p in EXPECTED])
def test_golden_export_is_byte_exact(
    expected: Path, stores: dict[str, Path], tmp_path: Path
) -> None:
    text = golden_export(expected, stores, tmp_path / "out.csv")
    assert text == expected.read_text(encoding="utf-8")


# ---------------------------------------------------------------- file options


@pytest.fixture(scope="module")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("example") / "store.duckdb"
    ingest_records(db, read_ndjson(EXAMPLE))
    return db


def run(
    db: Path,
    out: Path,
    export: str = "resolved-conversations",
    *,
    bom: bool = False,
    formula_guard: bool = True,
    format: str = "csv",
) -> None:
    request = ExportRequest(
        export=export,
        date_from=dt.date(2024, 6, 19),
        date_to=dt.date(2024, 6, 21),
        tz="America/Sao_Paulo",
        as_of=dt.datetime(2024, 6, 22, 12, tzinfo=dt.UTC),
        bom=bom,
        formula_guard=formula_guard,
        format=format,
    )
    con = open_store(db)
    try:
        run_export(con, request, out)
    finally:
        con.close()


def test_bom_only_when_asked(example_db: Path, tmp_path: Path) -> None:
    run(example_db, tmp_path / "plain.csv")
    run(example_db, tmp_path / "bom.csv", bom=True)
    plain = (tmp_path / "plain.csv").read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert (tmp_path / "bom.csv").read_bytes() == b"\xef\xbb\xbf" + plain


def test_the_guard_can_be_turned_off(example_db: Path, tmp_path: Path) -> None:
    run(example_db, tmp_path / "raw.csv", formula_guard=False)
    (cv1, cv3) = rows((tmp_path / "raw.csv").read_text(encoding="utf-8"))
    assert cv3["Contact Secondary Identifier"] == "=Pedro"
    assert cv1["Contact Primary Identifier"] == "+5511999990000"


def test_parquet_has_the_same_columns_and_rows_typed(example_db: Path, tmp_path: Path) -> None:
    run(example_db, tmp_path / "out.csv")
    run(example_db, tmp_path / "out.parquet", format="parquet")
    table = pq.read_table(tmp_path / "out.parquet")
    csv_rows = rows((tmp_path / "out.csv").read_text(encoding="utf-8"))
    assert table.column_names == list(csv_rows[0])
    data = table.to_pylist()
    assert [r["Conversation ID"] for r in data] == ["cv-1", "cv-3"]
    cv1 = data[0]
    assert cv1["Contact Secondary Identifier"] == "João Pereira"
    assert data[1]["Contact Secondary Identifier"] == "=Pedro"  # never guarded
    assert cv1["First Response Time (s)"] == 630  # integer seconds
    assert cv1["Resolved at"] == dt.datetime(2024, 6, 19, 12, 16, tzinfo=dt.UTC)
    assert cv1["CSAT Score"] == 5
    assert cv1["Topic Names"] == "Entrega \\| prazo"


def test_output_is_never_partial(
    example_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An export that fails after many rows are written.
    failing = ExportDef(
        name="failing",
        title="Failing",
        columns=columns("x | X | X | text"),
        sql="SELECT i, CASE WHEN i < 300000 THEN 'row' ELSE error('boom') END AS x"
        " FROM range(400000) AS t(i)",
        order="i",
    )
    monkeypatch.setitem(BY_NAME, "failing", failing)
    out = tmp_path / "out.csv"
    out.write_text("previous file\n")
    with pytest.raises(duckdb.Error, match="boom"):
        run(example_db, out, export="failing")
    assert out.read_text() == "previous file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
