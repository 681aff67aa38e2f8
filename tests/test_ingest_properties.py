"""Property: any valid record → store → read back gives its typed values.

Records are drawn from `records.RECORD_TYPES` (types without cross-field
rules, so every drawn record is valid), written as JSON with random key
order, escapes and timestamp spelling.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxport.errors import InvalidInput
from cxport.ingest import ingest_bytes
from cxport.ingest.checks import CODE_RE, SLUG_RE
from cxport.records import CROSS_RULES, ID_MAX_LEN, RECORD_TYPES, Field, Kind, RecordType
from cxport.store import Connection, open_store, to_utc_naive

RULED = {t for types, *_ in CROSS_RULES for t in types}
TYPES = [rt for rt in RECORD_TYPES if rt.name not in RULED]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFFSETS = [dt.timezone(dt.timedelta(minutes=m)) for m in (0, -180, 330, 840, -720, 59)]


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def weekly(draw: st.DrawFn) -> dict[str, list[list[str]]]:
    week = {}
    for day in draw(st.lists(st.sampled_from(DAYS), unique=True)):
        cuts = sorted(draw(st.sets(st.integers(0, 1440), max_size=6)))
        cuts = cuts[: len(cuts) // 2 * 2]
        if cuts and cuts[0] == 1440:
            cuts = []
        week[day] = [[hhmm(a), hhmm(b)] for a, b in zip(cuts[::2], cuts[1::2], strict=True)]
    return week


def value(f: Field) -> st.SearchStrategy[Any]:
    if f.name == "timezone":  # TEXT in records; checked against the IANA database
        return st.sampled_from(["UTC", "America/Sao_Paulo", "Asia/Kolkata", "Etc/GMT+3"])
    match f.kind:
        case Kind.ID:
            return st.text(min_size=1, max_size=ID_MAX_LEN)
        case Kind.TEXT:
            return st.text(max_size=f.max_len or 40)
        case Kind.ENUM:
            return st.sampled_from(f.values)
        case Kind.SLUG:
            return st.from_regex(SLUG_RE, fullmatch=True)
        case Kind.CODE:
            return st.from_regex(CODE_RE, fullmatch=True)
        case Kind.LANGUAGE:
            return st.sampled_from(["en", "pt-BR", "zh-Hant-TW", "es-419", "sr-Latn", "x-private"])
        case Kind.BOOL:
            return st.booleans()
        case Kind.TRUE:
            return st.just(True)
        case Kind.SCORE:
            return st.integers(1, 5)
        case Kind.WEEKLY:
            return weekly()
        case Kind.DATES:
            return st.lists(st.dates().map(dt.date.isoformat), max_size=4)
        case Kind.IDS:
            return st.lists(st.text(min_size=1, max_size=20), max_size=4)
    raise AssertionError(f.kind)


@st.composite
def record(draw: st.DrawFn) -> tuple[RecordType, dict[str, Any], dt.datetime]:
    rt = draw(st.sampled_from(TYPES))
    at = draw(
        st.datetimes(
            dt.datetime(1971, 1, 1), dt.datetime(2099, 1, 1), timezones=st.sampled_from(OFFSETS)
        )
    )
    text = at.isoformat(timespec=draw(st.sampled_from(["seconds", "milliseconds", "microseconds"])))
    at = dt.datetime.fromisoformat(text)  # what the text says (fewer digits maybe)
    if draw(st.booleans()):
        text = text.replace("+00:00", "Z")
    fields: dict[str, Any] = {"type": rt.name, "at": text}
    for f in rt.fields:
        if f.required or f.nullable_required:
            strategy = value(f) if f.required else st.none() | value(f)
            fields[f.name] = draw(strategy)
        elif draw(st.booleans()):
            fields[f.name] = draw(st.none() | value(f))
    return rt, fields, at


def expected_row(rt: RecordType, fields: dict[str, Any], at: dt.datetime) -> tuple[Any, ...]:
    out: list[Any] = [to_utc_naive(at)]
    for f in rt.fields:
        v = fields.get(f.name)
        if f.kind is Kind.WEEKLY:
            v = json.dumps(
                {d: v[d] for d in DAYS if d in v}, separators=(",", ":"), ensure_ascii=False
            )
        out.append(v)
    return tuple(out)


COUNTER = itertools.count()


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    """One store for every example (each example has its own workspace)."""
    con = open_store(tmp_path_factory.mktemp("props") / "props.duckdb")
    yield con
    con.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(record(), min_size=1, max_size=5), data=st.data())
def test_record_store_read_back(
    shared_store: Connection,
    records: list[tuple[RecordType, dict[str, Any], dt.datetime]],
    data: st.DataObject,
) -> None:
    store = shared_store
    workspace = f"w{next(COUNTER)}"
    lines = []
    for n, (_, fields, _) in enumerate(records):
        fields = {**fields, "id": f"r{n}"}
        keys = data.draw(st.permutations(list(fields)))
        ascii_only = data.draw(st.booleans())
        lines.append(json.dumps({k: fields[k] for k in keys}, ensure_ascii=ascii_only))
    try:
        summary = ingest_bytes(store, ("\n".join(lines) + "\n").encode(), workspace=workspace)
    except InvalidInput as exc:
        raise AssertionError(exc.problems) from exc
    assert summary.total_stored == len(records)
    for n, (rt, fields, at) in enumerate(records):
        cols = ", ".join(f'"{f.name}"' for f in rt.fields)
        got = store.execute(
            f'SELECT "at", {cols} FROM {rt.table} WHERE workspace = ? AND record_id = ?',
            [workspace, f"r{n}"],
        ).fetchall()
        assert got == [expected_row(rt, fields, at)]
    # A re-send in another key order is a no-op.
    again = ingest_bytes(store, ("\n".join(reversed(lines)) + "\n").encode(), workspace=workspace)
    assert (again.total_stored, again.duplicates) == (0, len(records))
