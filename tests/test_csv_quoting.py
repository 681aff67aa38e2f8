"""CSV quoting as `exports.md` says (issue 15, item 8): a field is quoted when it
holds the delimiter, a quote or a line break, and only then.

Real tweets carry hashtags: the file writer (DuckDB's COPY) used to quote any
field holding `#`, its default comment character. The real TWCS subset goes
through `cxport import twcs` → ingest → export messages, and every field of
the file is checked against the rule, reading the raw bytes as RFC 4180.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cxport.cli import main
from cxport.exports.catalogue import ColType, Column
from cxport.exports.writer import FileSpec, write


def _twcs_dir() -> Path:
    env = os.environ.get("CXPORT_TWCS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "twcs"


SUBSET = _twcs_dir() / "twcs_subset.csv"
ATL_PRIDE = "3837"  # Delta: "Love in the 🍑 state ! … #ATLPride. #PrideInFlight …"


def parse_rfc4180(text: str, delimiter: str = ",") -> list[list[tuple[str, bool]]]:
    """Records of `text` as (value, was quoted) fields; fails on anything RFC 4180
    does not allow (a quote inside an unquoted field, text after a closing quote)."""
    d = re.escape(delimiter)
    field = re.compile(rf'"((?:[^"]|"")*)"|([^{d}"\r\n]*)')
    end = re.compile(rf"{d}|\r\n|\n|$")
    records: list[list[tuple[str, bool]]] = []
    record: list[tuple[str, bool]] = []
    pos = 0
    while pos < len(text):
        f = field.match(text, pos)
        assert f is not None
        quoted = f.group(1) is not None
        record.append((f.group(1).replace('""', '"') if quoted else f.group(2), quoted))
        e = end.match(text, f.end())
        assert e is not None, f"not RFC 4180 at offset {f.end()}: {text[f.end() : f.end() + 40]!r}"
        pos = e.end()
        if e.group() != delimiter:
            records.append(record)
            record = []
    return records


def needs_quotes(value: str, delimiter: str = ",") -> bool:
    return any(c in value for c in (delimiter, '"', "\n", "\r"))


def assert_quoted_only_as_needed(text: str, delimiter: str = ",") -> list[list[str]]:
    records = parse_rfc4180(text, delimiter)
    width = len(records[0])
    for record in records:
        assert len(record) == width
        for value, quoted in record:
            assert quoted == needs_quotes(value, delimiter), (value, quoted)
    values = [[v for v, _ in r] for r in records]
    # What an ordinary reader makes of it: the same fields.
    assert list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)) == values
    return values


@pytest.fixture(scope="module")
def twcs_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SUBSET.is_file():
        pytest.skip(f"no TWCS subset at {SUBSET}")
    tmp = tmp_path_factory.mktemp("twcs-quoting")
    runner = CliRunner()
    done = runner.invoke(main, ["import", "twcs", str(SUBSET), "--out", str(tmp / "t.ndjson")])
    assert done.exit_code == 0, done.output
    db = tmp / "store.duckdb"
    done = runner.invoke(main, ["ingest", "--db", str(db), str(tmp / "t.ndjson")])
    assert done.exit_code == 0, done.output
    return db


def export_messages(db: Path, out: Path, *options: str) -> bytes:
    args = ["export", "messages", "--db", str(db), "--from", "2011-01-01", "--to", "2017-12-31"]
    args += ["--as-of", "2100-01-01T00:00:00Z", *options, "--output", str(out)]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    return out.read_bytes()


def test_real_tweets_with_hashtags_are_not_quoted(twcs_db: Path, tmp_path: Path) -> None:
    text = export_messages(twcs_db, tmp_path / "messages.csv").decode("utf-8")
    records = assert_quoted_only_as_needed(text)
    header, rows = records[0], records[1:]
    content = header.index("Content")
    by_id = {r[0]: r for r in rows}
    tweet = by_id[ATL_PRIDE][content]
    assert "#ATLPride." in tweet and not needs_quotes(tweet)
    assert f",{tweet}," in text  # as is, between two delimiters
    hashtags = [r[content] for r in rows if "#" in r[content]]
    assert sum(not needs_quotes(t) for t in hashtags) > 100


def test_excel_pt_br_quotes_by_its_delimiter(twcs_db: Path, tmp_path: Path) -> None:
    """`;` between fields: a field holding `;` is quoted, one holding `,` is not."""
    raw = export_messages(twcs_db, tmp_path / "m.csv", "--excel", "--lang", "pt-BR")
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    records = assert_quoted_only_as_needed(text, ";")
    content = records[0].index("Conteúdo")
    assert any("," in r[content] and ";" not in r[content] for r in records[1:])
    assert any(";" in r[content] for r in records[1:])


TEXT = Column("v", "Value", "Valor", ColType.TEXT)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_any_text_is_quoted_only_as_needed(
    values: list[str], delimiter: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """row → CSV → parse, for any text and any delimiter the request allows."""
    out = tmp_path_factory.mktemp("q") / "v.csv"
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    spec = FileSpec(formula_guard=False, delimiter=delimiter)
    write(con, (TEXT,), "SELECT v, i FROM t", "i", spec, out)
    text = out.read_bytes().decode("utf-8")
    assert assert_quoted_only_as_needed(text, delimiter) == [["Value"]] + [[v] for v in values]
