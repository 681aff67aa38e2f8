"""The activity exports (messages, response-times, contacts, contact-attributes, topics, tags).

- Golden scenarios: each `golden/activity/<scenario>/` holds `records.ndjson`,
  `requests.json` (named requests: from, to, tz, as_of, channels, lang) and,
  per request, the expected file of each export checked:
  `<request>/<export>.csv`, computed by hand (the reasoning is in
  `golden/activity/README.md`).
- Parquet carries the same columns and rows, typed.
- Content: user text survives CSV writing and three readers unchanged
  (apart from the formula guard's leading `'`); scheduled exports leave it
  empty unless enabled.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import duckdb
import helpers
import pandas as pd
import pytest
from helpers import EXAMPLE, golden_export, golden_files, golden_stores, ingest_records, read_ndjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_builders import conversation, inbound, reply, ts

from cxport.exports import ExportRequest, kept, run_export
from cxport.exports.catalogue import ColType
from cxport.exports.defs import BY_NAME
from cxport.store import open_store

GOLDEN = Path(__file__).parent / "golden" / "activity"
EXPECTED = golden_files(GOLDEN)
ACTIVITY_EXPORTS = (
    "messages",
    "response-times",
    "contacts",
    "contact-attributes",
    "topics",
    "tags",
)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return golden_stores(GOLDEN, tmp_path_factory.mktemp("golden"))


@pytest.mark.parametrize("expected", EXPECTED, ids=[str(p.relative_to(GOLDEN)) for p in EXPECTED])
def test_golden_export_is_byte_exact(
    expected: Path, stores: dict[str, Path], tmp_path: Path
) -> None:
    text = golden_export(expected, stores, tmp_path / "out.csv")
    assert text == expected.read_text(encoding="utf-8")


def test_every_activity_export_has_golden_files() -> None:
    covered = {p.stem for p in EXPECTED}
    assert covered == set(ACTIVITY_EXPORTS)
    pt_br = {p.stem for p in EXPECTED if p.parent.name == "pt-BR"}
    assert pt_br == set(ACTIVITY_EXPORTS)


# --- Parquet ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("example") / "ex.duckdb"
    ingest_records(db, read_ndjson(EXAMPLE))
    return db


def run(db: Path, out: Path, export: str, **options: Any) -> Path:
    request = ExportRequest(
        export=export,
        date_from=dt.date(2024, 6, 19),
        date_to=dt.date(2024, 6, 21),
        tz="America/Sao_Paulo",
        as_of=dt.datetime(2024, 6, 22, 12, tzinfo=dt.UTC),
        **options,
    )
    con = open_store(db)
    try:
        run_export(con, request, out)
    finally:
        con.close()
    return out


PARQUET_TYPES = {
    ColType.TIMESTAMP: "TIMESTAMP WITH TIME ZONE",
    ColType.DURATION: "BIGINT",
    ColType.COUNT: "BIGINT",
    ColType.BOOL: "BOOLEAN",
}


@pytest.mark.parametrize("export", ACTIVITY_EXPORTS)
def test_parquet_has_the_rows_of_the_csv_typed(
    export: str, example_db: Path, tmp_path: Path
) -> None:
    columns = BY_NAME[export].columns
    csv_path = run(example_db, tmp_path / "out.csv", export, formula_guard=False)
    pq_path = run(example_db, tmp_path / "out.parquet", export, format="parquet")
    with csv_path.open(newline="", encoding="utf-8") as f:
        csv_rows = list(csv.reader(f))[1:]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    described = con.execute(f"DESCRIBE SELECT * FROM '{pq_path}'").fetchall()
    assert [d[0] for d in described] == [c.en for c in columns]
    for (_, sql_type, *_), col in zip(described, columns, strict=True):
        assert sql_type == PARQUET_TYPES.get(col.type, "VARCHAR"), col.en
    pq_rows = con.execute(f"SELECT * FROM '{pq_path}'").fetchall()
    assert len(pq_rows) == len(csv_rows) > 0
    for pq_row, csv_row in zip(pq_rows, csv_rows, strict=True):
        for value, text, col in zip(pq_row, csv_row, columns, strict=True):
            if value is None:
                assert text == "", col.en
            elif col.type is ColType.TIMESTAMP:
                assert value.replace(microsecond=0) == dt.datetime.fromisoformat(text), col.en
            elif col.type is ColType.BOOL:
                assert ("true" if value else "false") == text
            else:
                assert str(value) == text, col.en


# --- Content ---------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_PHONE = re.compile(r"\+[\d ().-]*", re.ASCII)


def guarded(text: str) -> str:
    """The formula guard of exports.md, written independently of the writer."""
    if text[:1] in ("=", "@", "\t", "\r"):
        return "'" + text
    if text[:1] in ("+", "-") and not _NUMBER.fullmatch(text):
        digits = sum(ch in "0123456789" for ch in text)
        if not (_PHONE.fullmatch(text) and 7 <= digits <= 15):
            return "'" + text
    return text


TRICKY = [
    'He said "hi", then left',
    "line one\nline two\n",
    "crlf\r\nline",
    "lone\rcarriage",
    "\r\nstarts with a line break",
    "trailing comma,",
    '"',
    '""',
    ",",
    "   padded   ",
    "emoji 😀👍🏽 and 🇧🇷",
    "=SUM(A1:A9)",
    '=HYPERLINK("http://x")',
    "@mention",
    "+5511999990000",
    "+55 (11) 99999-0000",
    "+123",
    "-12.5",
    "-5 estrelas",
    "+1e5",
    "\tindented",
    "back\\slash|pipe",
    "unicode line\u2028separator",
    "NULL",
    "N/A",
    "nan",
    "#N/A",
    "0123",
    "1,234.5",
    "'quoted already",
    "tab\tinside",
    "ümlaut ção 中文 עברית",
    "nul\x00inside",
    "+",
    "-",
    "=",
    "+-1",
    "- 1",
    ".5",
    "+.5e3",
    "+1 (555) 12",
    "+1 (555) 123-4567 ext",
    "++5511999990000",
    "+55 11 9999 0000 0000 0000",
    "+(11)",
    "+1234567",
    "+12345678901234567",
    "+ 123 456 7",
    "+12 3456",
    "+5511999990000 ",
    "+5511999990000\n",
    "-\u0301 combining",
    "",
]


def content_store(db: Path, texts: list[str]) -> None:
    records: list[dict[str, Any]] = [
        {"type": "channel", "id": "r-ch", "at": "2024-06-01T00:00:00Z", "channel_id": "ch",
         "medium": "whatsapp", "name": "WA"},
        {"type": "conversation", "id": "r-cv", "at": "2024-06-20T00:00:00Z",
         "conversation_id": "cv", "channel_id": "ch", "contact_profile_id": "c"},
    ]  # fmt: skip
    for i, text in enumerate(texts):
        records.append(
            {"type": "message", "id": f"r-{i:04d}", "at": "2024-06-20T12:00:00Z",
             "message_id": f"m-{i:04d}", "conversation_id": "cv", "direction": "INBOUND",
             "source": "CONTACT", "message_type": "PRIVATE_MESSAGE", "content": text}
        )  # fmt: skip
    ingest_records(db, records)


def contents_by_reader(path: Path) -> dict[str, dict[str, str]]:
    """Message ID → Content, as each reader sees the file."""
    with path.open(newline="", encoding="utf-8") as f:
        by_csv = {r["Message ID"]: r["Content"] for r in csv.DictReader(f)}
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    by_pandas = dict(zip(frame["Message ID"], frame["Content"], strict=True))
    con = duckdb.connect()
    got = con.execute(
        'SELECT "Message ID", coalesce("Content", \'\') FROM read_csv(?, header = true,'
        " all_varchar = true, delim = ',', quote = '\"', escape = '\"')",
        [str(path)],
    ).fetchall()
    by_duckdb = {str(k): str(v) for k, v in got}
    return {"csv": by_csv, "pandas": by_pandas, "duckdb": by_duckdb}


def check_round_trip(db: Path, texts: list[str], tmp_path: Path) -> None:
    for guard in (True, False):
        out = run(db, tmp_path / f"m-{guard}.csv", "messages", formula_guard=guard)
        for reader, got in contents_by_reader(out).items():
            want = {f"m-{i:04d}": (guarded(t) if guard and t else t) for i, t in enumerate(texts)}
            assert got == want, (reader, guard)


def test_tricky_content_round_trips_through_csv_pandas_and_duckdb(tmp_path: Path) -> None:
    db = tmp_path / "content.duckdb"
    content_store(db, TRICKY)
    check_round_trip(db, TRICKY, tmp_path)


# Any text a JSON string can carry (NUL and lone control characters included),
# and text shaped like numbers and phone numbers, where the guard is subtle.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.from_regex(
    r"[+-][0-9 ().+eE-]{0,20}", fullmatch=True
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(TEXT, min_size=1, max_size=12))
def test_any_content_round_trips(
    texts: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("content")
    db = tmp / "content.duckdb"
    content_store(db, texts)
    check_round_trip(db, texts, tmp)


def test_scheduled_export_leaves_content_empty_unless_enabled(
    example_db: Path, tmp_path: Path
) -> None:
    def contents(**options: Any) -> list[str]:
        out = run(example_db, tmp_path / "m.csv", "messages", **options)
        with out.open(newline="", encoding="utf-8") as f:
            return [r["Content"] for r in csv.DictReader(f)]

    on_demand = contents()
    assert sum(1 for c in on_demand if c) == 12  # 13 messages, one deleted
    assert contents(scheduled=True, include_content=False) == [""] * 13
    assert contents(scheduled=True, include_content=True) == on_demand


def test_content_header_is_present_when_empty(example_db: Path, tmp_path: Path) -> None:
    out = run(example_db, tmp_path / "m.csv", "messages", scheduled=True, include_content=False)
    header = next(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert "Content" in header


def test_contacts_last_updated_is_the_latest_version_or_attribute_event(tmp_path: Path) -> None:
    """c-1: a contact version after its attribute events; c-2: attribute events
    only (no contact entity); c-3: neither, so the cell is empty."""

    def contact(rid: str, contact_id: str, at: str, name: str) -> dict[str, Any]:
        return {"type": "contact", "id": rid, "at": ts(at), "contact_profile_id": contact_id,
                "medium": "whatsapp", "primary_identifier": "+5511900000001",
                "secondary_identifier": name}  # fmt: skip

    def attribute(rid: str, contact_id: str, at: str) -> dict[str, Any]:
        return {"type": "contact_attribute", "id": rid, "at": ts(at),
                "contact_profile_id": contact_id, "attribute_id": "at-a", "value": "x"}  # fmt: skip

    db = tmp_path / "store.duckdb"
    ingest_records(db, [
        contact("k1", "c-1", "05-01 00:00", "Old"),
        attribute("a1", "c-1", "05-02 00:00"),
        contact("k2", "c-1", "05-07 00:00", "New"),
        attribute("a2", "c-2", "05-03 00:00"),
        attribute("a3", "c-2", "05-04 00:00"),
        conversation("v1", "cv-1", "ch-1", "c-1", "05-05 00:00"),
        conversation("v2", "cv-2", "ch-1", "c-2", "05-05 00:00"),
        conversation("v3", "cv-3", "ch-1", "c-3", "05-05 00:00"),
        inbound("m1", "05-05 10:00", "cv-1"),
        inbound("m2", "05-05 11:00", "cv-2"),
        inbound("m3", "05-05 12:00", "cv-3"),
    ])  # fmt: skip
    out = helpers.rows(helpers.export_text(db, "contacts", "2024-05-05", "2024-05-05"))
    assert {r["Contact Profile ID"]: r["Last Updated"] for r in out} == {
        "c-1": "2024-05-07T00:00:00+00:00",
        "c-2": "2024-05-04T00:00:00+00:00",
        "c-3": "",
    }


def test_contacts_at_the_edges_of_the_range_from_kept_and_computed_facts(tmp_path: Path) -> None:
    """A message at the range's first instant counts, one at its end does not.
    c-a: its first message at the start, a reply at the end (a conversation
    crossing the end); c-b: one message a millisecond before the end (all its
    messages in range: its kept row); c-c: a conversation before the range and
    one inside; c-d: only at the end (not a row)."""
    db = tmp_path / "store.duckdb"
    ingest_records(db, [
        conversation("v1", "cv-a", "ch-1", "c-a", "06-10 00:00"),
        inbound("a1", "06-10 00:00:00.000", "cv-a"),
        reply("a2", "06-11 00:00:00.000", "cv-a", "ag-1"),
        conversation("v2", "cv-b", "ch-1", "c-b", "06-10 23:00"),
        inbound("b1", "06-10 23:59:59.999", "cv-b"),
        conversation("v3", "cv-c1", "ch-1", "c-c", "06-09 23:00"),
        inbound("c1", "06-09 23:59:59.999", "cv-c1"),
        conversation("v4", "cv-c2", "ch-1", "c-c", "06-10 12:00"),
        inbound("c2", "06-10 12:00", "cv-c2"),
        reply("c3", "06-10 12:01", "cv-c2", "ag-1"),
        conversation("v5", "cv-d", "ch-1", "c-d", "06-11 00:00"),
        inbound("d1", "06-11 00:00", "cv-d"),
    ])  # fmt: skip
    request = ExportRequest(
        export="contacts",
        date_from=dt.date(2024, 6, 10),
        date_to=dt.date(2024, 6, 10),
        as_of=dt.datetime(2024, 7, 1, tzinfo=dt.UTC),
    )
    con = open_store(db)
    try:
        kept.refresh(con, "default")
        for use_kept in (True, False):
            out = tmp_path / f"contacts-{use_kept}.csv"
            assert run_export(con, request, out, use_kept=use_kept).kept is use_kept
            got = [
                (r["Contact Profile ID"], r["Created at"], r["Number of Conversations"],
                 r["Number of Inbound Messages"], r["Number of Outbound Messages"])
                for r in helpers.rows(out.read_text(encoding="utf-8"))
            ]  # fmt: skip
            assert got == [
                ("c-a", "2024-06-10T00:00:00+00:00", "1", "1", "0"),
                ("c-c", "2024-06-10T12:00:00+00:00", "1", "1", "1"),
                ("c-b", "2024-06-10T23:59:59+00:00", "1", "1", "0"),
            ], use_kept
    finally:
        con.close()
