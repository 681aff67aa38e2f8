"""Bulk ingest (`ingest.md`): round trips, every kind of bad input, atomicity,
idempotency, conflicts, order independence, gzip/stdin, skip-invalid."""

from __future__ import annotations

import datetime as dt
import gzip
import importlib
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from helpers import EXAMPLE

from cxport.errors import InvalidInput, UsageError
from cxport.ingest import ingest_bytes, ingest_files
from cxport.ingest.reader import copy_lines
from cxport.records import RECORD_TYPES
from cxport.store import Connection, record_counts

NOW = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
AT = "2024-06-19T08:30:00.250-03:00"
AT_UTC = dt.datetime(2024, 6, 19, 11, 30, 0, 250000)

# One valid record per type, with every field it may carry (cross rules allowing).
FULL: dict[str, dict[str, Any]] = {
    "channel": {"channel_id": "ch-1", "medium": "web-messenger", "name": "Site", "display_name": "Chat"},
    "team": {"team_id": "t-1", "name": "SAC"},
    "agent": {"agent_id": "a-1", "name": "Ana", "email": "ana@x.example", "reference": "E-1"},
    "virtual_agent": {"virtual_agent_id": "va-1", "name": "Bot"},
    "topic": {"topic_id": "tp-1", "name": "Entrega", "active": True},
    "tag": {"tag_id": "tg-1", "name": "urgente", "active": False},
    "contact": {"contact_profile_id": "c-1", "medium": "sms", "primary_identifier": "+55",
                "secondary_identifier": "João"},
    "contact_attribute_definition": {"attribute_id": "at-1", "name": "Plano", "attribute_type": "CRM"},
    "conversation": {"conversation_id": "cv-1", "channel_id": "ch-1", "contact_profile_id": "c-1",
                     "url": "https://x.example/cv-1", "language": "pt-BR"},
    "business_hours": {"calendar_id": "cal-1", "timezone": "America/Sao_Paulo",
                       "weekly": {"tue": [["13:00", "24:00"]], "mon": [["09:00", "12:00"], ["12:00", "18:00"]]},
                       "holidays": ["2024-06-20"], "channel_ids": ["ch-1"]},
    "message": {"message_id": "m-1", "conversation_id": "cv-1", "direction": "OUTBOUND",
                "source": "AGENT", "message_type": "PRIVATE_MESSAGE", "outbound_message_type": "API",
                "agent_id": "a-1", "team_id": "t-1", "content": "Olá \"você\"\n😀", "post_url": "u"},
    "message_deleted": {"message_id": "m-1"},
    "status_change": {"conversation_id": "cv-1", "status": "RESOLVED", "virtual_agent_id": "va-1",
                      "team_id": "t-1", "resolved_by": "VIRTUAL_AGENT", "resolve_trigger": "AUTOMATION",
                      "resolve_reason": "done", "resolve_comment": "ok"},
    "lock": {"conversation_id": "cv-1", "agent_id": "a-1", "team_id": "t-1"},
    "unlock": {"conversation_id": "cv-1", "virtual_agent_id": "va-1"},
    "topic_applied": {"conversation_id": "cv-1", "topic_id": "tp-1", "agent_id": "a-1", "team_id": "t-1"},
    "topic_removed": {"conversation_id": "cv-1", "topic_id": "tp-1"},
    "tag_applied": {"message_id": "m-1", "tag_id": "tg-1", "virtual_agent_id": "va-1", "team_id": "t-1"},
    "tag_removed": {"message_id": "m-1", "tag_id": "tg-1", "agent_id": "a-1"},
    "csat": {"conversation_id": "cv-1", "event": "ANSWERED", "score": 4,
             "follow_up_question": "?", "follow_up_answer": "!"},
    "presence": {"agent_id": "a-1", "status": "AWAY", "away_state": "Almoço"},
    "contact_attribute": {"contact_profile_id": "c-1", "attribute_id": "at-1", "value": None},
}  # fmt: skip


def rec(type_: str, id_: str = "r1", at: str = AT, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "id": id_, "at": at, **(FULL[type_] | fields)}


def ndjson(*records: dict[str, Any] | str) -> bytes:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    return ("\n".join(lines) + "\n").encode()


def fingerprint(con: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row of every table: a store before == after comparison."""
    tables = [rt.table for rt in RECORD_TYPES] + ["batches"]
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def content(con: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The records stored, whatever the batches."""
    out = {}
    for rt in RECORD_TYPES:
        out[rt.name] = con.execute(
            f"SELECT * EXCLUDE (batch_id, lineno) FROM {rt.table} ORDER BY ALL"
        ).fetchall()
    return out


def invalid(con: Connection, data: bytes, **kw: Any) -> InvalidInput:
    before = fingerprint(con)
    with pytest.raises(InvalidInput) as info:
        ingest_bytes(con, data, now=NOW, **kw)
    assert fingerprint(con) == before, "a rejected batch must leave the store unchanged"
    return info.value


# Round trips ----------------------------------------------------------------


@pytest.mark.parametrize("type_", [rt.name for rt in RECORD_TYPES])
def test_each_type_round_trips(store: Connection, type_: str) -> None:
    summary = ingest_bytes(store, ndjson(rec(type_)), now=NOW)
    assert summary.stored == {type_: 1}
    rt = next(r for r in RECORD_TYPES if r.name == type_)
    cols = ", ".join(f'"{f.name}"' for f in rt.fields)
    row = store.execute(f'SELECT workspace, record_id, "at", {cols} FROM {rt.table}').fetchall()
    expected = []
    for f in rt.fields:
        value = FULL[type_].get(f.name)
        if f.name == "weekly":  # canonical: days in week order, minified
            value = '{"mon":[["09:00","12:00"],["12:00","18:00"]],"tue":[["13:00","24:00"]]}'
        expected.append(value)
    assert row == [("default", "r1", AT_UTC, *expected)]
    assert store.execute(f"SELECT batch_id, lineno FROM {rt.table}").fetchall() == [(1, 1)]


def test_spec_example_ingests_cleanly(store: Connection) -> None:
    summary = ingest_files(store, [str(EXAMPLE)], now=NOW)
    assert summary.total_stored == 67
    assert (summary.duplicates, summary.rejected, summary.warning_count) == (0, 0, 0)
    assert sum(record_counts(store).values()) == 67


@pytest.mark.parametrize(
    ("at", "utc"),
    [
        ("2024-06-19T08:30:00Z", "2024-06-19 08:30:00"),
        ("2024-06-19t08:30:00z", "2024-06-19 08:30:00"),
        ("2024-06-19T08:30:00.999999+05:30", "2024-06-19 03:00:00.999"),
        ("2024-06-19T08:30:00.5-00:00", "2024-06-19 08:30:00.500"),
        ("2024-01-01T00:30:00+01:00", "2023-12-31 23:30:00"),
        ("2024-02-29T23:59:59.1-23:59", "2024-03-01 23:58:59.100"),
    ],
)
def test_timestamps_become_utc_milliseconds(store: Connection, at: str, utc: str) -> None:
    ingest_bytes(store, ndjson(rec("team", at=at)), now=NOW)
    got = store.execute("SELECT strftime(\"at\", '%Y-%m-%d %H:%M:%S.%g') FROM r_team").fetchall()
    assert got[0][0].removesuffix(".000") == utc


# Bad input: each names line, field and reason; the store is unchanged --------

BAD: list[tuple[str, bytes, str]] = [
    ("invalid JSON", b'{"type": "team", "id": "r2"', "2: invalid JSON"),
    ("trailing comma", ndjson(rec("team", "r2"))[:-2] + b",}\n", "2: invalid JSON"),
    ("not an object", b"[1, 2]\n", "2: not a JSON object"),
    ("no type", b'{"id": "r2"}\n', "2: field 'type': required"),
    ("unknown type", ndjson({"type": "teams", "id": "r2", "at": AT}), "2: field 'type': unknown record type \"teams\""),
    ("unknown field", ndjson(rec("team", "r2", nmae="x")), "2: field 'nmae': unknown field for type team"),
    ("duplicate field", b'{"type": "team", "id": "r2", "id": "r3", "at": "2024-06-19T08:30:00Z", "team_id": "t", "name": "n"}\n',
     "2: field 'id': duplicate field"),
    ("no offset", ndjson(rec("team", "r2", at="2024-06-19T08:30:00")), "2: field 'at': must be an RFC 3339 timestamp"),
    ("no seconds", ndjson(rec("team", "r2", at="2024-06-19T08:30Z")), "2: field 'at': must be an RFC 3339"),
    ("space separator", ndjson(rec("team", "r2", at="2024-06-19 08:30:00Z")), "2: field 'at': must be an RFC 3339"),
    ("leap second", ndjson(rec("team", "r2", at="2016-12-31T23:59:60Z")), "2: field 'at': must be an RFC 3339"),
    ("bad date", ndjson(rec("team", "r2", at="2023-02-29T10:00:00Z")), "2: field 'at': must be an RFC 3339"),
    ("hour 24", ndjson(rec("team", "r2", at="2024-06-19T24:00:00Z")), "2: field 'at': must be an RFC 3339"),
    ("minute 60", ndjson(rec("team", "r2", at="2024-06-19T10:60:00Z")), "2: field 'at': must be an RFC 3339"),
    ("offset hour 24", ndjson(rec("team", "r2", at="2024-06-19T10:00:00+24:00")), "2: field 'at': must be an RFC 3339"),
    ("offset minute 60", ndjson(rec("team", "r2", at="2024-06-19T10:00:00-03:60")), "2: field 'at': must be an RFC 3339"),
    ("year 0", ndjson(rec("team", "r2", at="0000-06-19T10:00:00Z")), "2: field 'at': must be an RFC 3339"),
    ("at not a string", ndjson(rec("team", "r2", at=1718785800)), "2: field 'at': must be an RFC 3339"),
    ("enum", ndjson(rec("presence", "r2", status="BUSY", away_state=None)),
     "2: field 'status': must be one of AVAILABLE, AWAY, OFFLINE, got \"BUSY\""),
    ("score 6", ndjson(rec("csat", "r2", score=6)), "2: field 'score': must be an integer 1-5, got 6"),
    ("score 0", ndjson(rec("csat", "r2", score=0)), "2: field 'score': must be an integer 1-5, got 0"),
    ("score 5.0", ndjson(rec("csat", "r2", score=5.0)), "2: field 'score': must be an integer 1-5, got 5.0"),
    ("score string", ndjson(rec("csat", "r2", score="5")), "2: field 'score': must be an integer 1-5, got \"5\""),
    ("missing required", ndjson({k: v for k, v in rec("team", "r2").items() if k != "name"}), "2: field 'name': required"),
    ("required null", ndjson(rec("team", "r2", name=None)), "2: field 'name': required"),
    ("nullable key absent", ndjson({k: v for k, v in rec("contact_attribute", "r2").items() if k != "value"}),
     "2: field 'value': required (null is allowed)"),
    ("empty id", ndjson(rec("team", "")), "2: field 'id': must be a non-empty string"),
    ("long id", ndjson(rec("team", "x" * 201)), "2: field 'id': must be a non-empty string of at most 200"),
    ("number as text", ndjson(rec("team", "r2", name=5)), "2: field 'name': must be a string, got 5"),
    ("slug", ndjson(rec("channel", "r2", medium="Web Messenger")), "2: field 'medium': must be a lower-case slug"),
    ("code", ndjson(rec("message", "r2", message_id="m-2", message_type="private")), "2: field 'message_type': must be an upper-case code"),
    ("language", ndjson(rec("conversation", "r2", language="portuguese_BR")), "2: field 'language': must be a BCP 47"),
    ("bool", ndjson(rec("topic", "r2", active="yes")), "2: field 'active': must be true or false"),
    ("true only", ndjson(rec("status_change", "r2", virtual_agent_id=None, system=False)), "2: field 'system': must be true"),
    ("max length", ndjson(rec("presence", "r2", away_state="x" * 26)), "2: field 'away_state': must be a string of at most 25"),
    ("cross: agent", ndjson(rec("message", "r2", message_id="m-2", agent_id=None)), "2: field 'agent_id': required when source is AGENT"),
    ("cross: actor", ndjson(rec("lock", "r2", virtual_agent_id="va-1")), "2: field 'agent_id': exactly one of agent_id or virtual_agent_id"),
    ("cross: csat", ndjson(rec("csat", "r2", score=None)), "2: field 'score': required when event is ANSWERED"),
    ("cross: away", ndjson(rec("presence", "r2", status="AVAILABLE")), "2: field 'away_state': only allowed when status is AWAY"),
    ("bh: timezone", ndjson(rec("business_hours", "r2", timezone="Mars/Olympus")), "2: field 'timezone': unknown IANA time zone"),
    ("bh: day", ndjson(rec("business_hours", "r2", weekly={"monday": []})), "2: field 'weekly': unknown day \"monday\""),
    ("bh: order", ndjson(rec("business_hours", "r2", weekly={"mon": [["10:00", "09:00"]]})), "2: field 'weekly': mon: interval 1: start 10:00 must be before end 09:00"),
    ("bh: overlap", ndjson(rec("business_hours", "r2", weekly={"fri": [["09:00", "12:00"], ["11:00", "13:00"]]})), "2: field 'weekly': fri: interval 2: starts at 11:00"),
    ("bh: time", ndjson(rec("business_hours", "r2", weekly={"sun": [["9:00", "12:00"]]})), "2: field 'weekly': sun: interval 1: start \"9:00\" is not a time"),
    ("bh: 24:00 start", ndjson(rec("business_hours", "r2", weekly={"sun": [["24:00", "24:00"]]})), "2: field 'weekly': sun: interval 1: start \"24:00\""),
    ("bh: holiday", ndjson(rec("business_hours", "r2", holidays=["2024-02-30"])), "2: field 'holidays': must be a list of dates"),
    ("bh: channel ids", ndjson(rec("business_hours", "r2", channel_ids=[""])), "2: field 'channel_ids': must be a list of ids"),
    ("bh: weekly type", ndjson(rec("business_hours", "r2", weekly=[])), "2: field 'weekly': must be an object"),
    ("invalid UTF-8", b'{"type": "team", "id": "r2", "at": "2024-06-19T08:30:00Z", "team_id": "t", "name": "\xc3\x28"}\n',
     "2: invalid UTF-8"),
    ("line over 1 MiB", ndjson(rec("team", "r2", name="x" * (1 << 20))), "2: line longer than 1 MiB"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_named_and_nothing_stored(
    store: Connection, data: bytes, expected: str
) -> None:
    ingest_bytes(store, ndjson(rec("team", "r0")), now=NOW)  # a store with something in it
    exc = invalid(store, ndjson(rec("team", "r1")) + data, source="in.ndjson")
    assert any(p.startswith("in.ndjson:" + expected) for p in exc.problems), exc.problems
    assert exc.total >= 1


def test_every_problem_of_a_line_is_reported_by_line(store: Connection) -> None:
    data = ndjson(rec("csat", "r1", score=5.0, event="X"), "", "{", rec("team", "r4", nmae=1))
    exc = invalid(store, data, source="f")
    assert exc.problems == [
        "f:1: field 'event': must be one of SENT, ANSWERED, FOLLOW_UP_ANSWERED, got \"X\"",
        "f:1: field 'score': must be an integer 1-5, got 5.0",
        "f:3: invalid JSON",
        "f:4: field 'nmae': unknown field for type team",
    ]
    assert exc.total == 4


def test_bad_line_at_the_end_of_a_large_file(store: Connection, tmp_path: Path) -> None:
    path = tmp_path / "big.ndjson"
    n = 200_000
    with path.open("wb") as f:
        f.write(b"".join(ndjson(rec("lock", f"r{i}")) for i in range(n)))
        f.write(ndjson(rec("csat", "last", score=5.0)))
    before = fingerprint(store)
    with pytest.raises(InvalidInput) as info:
        ingest_files(store, [str(path)], now=NOW, chunk_bytes=1 << 20)  # about 20 chunks
    assert info.value.problems == [
        f"{path}:{n + 1}: field 'score': must be an integer 1-5, got 5.0"
    ]
    assert fingerprint(store) == before
    summary = ingest_files(store, [str(path)], now=NOW, chunk_bytes=1 << 20, skip_invalid=True,
                           rejects_path=str(tmp_path / "rejects.tsv"))  # fmt: skip
    assert (summary.stored, summary.rejected) == ({"lock": n}, 1)


def test_line_over_1_mib_longer_than_a_chunk(store: Connection, tmp_path: Path) -> None:
    long = ndjson(rec("team", "r2", name="x" * (3 << 20)))
    data = ndjson(rec("team", "r1")) + long + ndjson(rec("team", "r3"))
    exc = invalid(store, data, source="f", chunk_bytes=64 << 10)
    assert exc.problems == [f"f:2: line longer than 1 MiB ({len(long) - 1} bytes)"]
    rejects = tmp_path / "rejects.tsv"
    summary = ingest_bytes(
        store, data, source="f", skip_invalid=True, rejects_path=str(rejects), chunk_bytes=64 << 10
    )
    assert summary.stored == {"team": 2}
    assert (
        rejects.read_bytes()
        == b"f\t2\tline longer than 1 MiB (%d bytes)\t" % (len(long) - 1) + long
    )


def test_many_problems_are_capped_but_counted(store: Connection) -> None:
    data = b"nope\n" * 250
    exc = invalid(store, data)
    assert len(exc.problems) == 100 and exc.total == 250
    assert "250 invalid lines" in str(exc)


def test_blank_lines_and_crlf_are_fine(store: Connection) -> None:
    data = b"\n  \n" + ndjson(rec("team", "r1")).replace(b"\n", b"\r\n") + b"\t\r\n"
    assert ingest_bytes(store, data, now=NOW).stored == {"team": 1}


def test_utf8_bom_at_the_start_is_ignored(store: Connection) -> None:
    assert ingest_bytes(store, b"\xef\xbb\xbf" + ndjson(rec("team")), now=NOW).stored == {"team": 1}


# Idempotency, conflicts, order ----------------------------------------------


def test_resend_is_a_no_op(store: Connection) -> None:
    ingest_files(store, [str(EXAMPLE)], now=NOW)
    before = content(store)
    summary = ingest_files(store, [str(EXAMPLE)], now=NOW)
    assert (summary.total_stored, summary.duplicates) == (0, 67)
    assert content(store) == before


def test_same_content_is_key_order_spacing_and_offset_blind(store: Connection) -> None:
    ingest_bytes(store, ndjson(rec("business_hours", at="2024-06-19T11:30:00.250Z")), now=NOW)
    r = rec("business_hours")
    r["weekly"] = dict(reversed(list(r["weekly"].items())))
    again = json.dumps(dict(reversed(list(r.items()))), indent=None, separators=(" ,", " :  "))
    again = again.replace("Sao_Paulo", "Sao\\u005fPaulo")
    summary = ingest_bytes(store, again.encode() + b"\n", now=NOW)
    assert (summary.total_stored, summary.duplicates) == (0, 1)


def test_null_is_the_same_as_absent(store: Connection) -> None:
    ingest_bytes(store, ndjson(rec("agent", email=None)), now=NOW)
    r = rec("agent")
    del r["email"]
    assert ingest_bytes(store, ndjson(r), now=NOW).duplicates == 1


def test_same_id_other_content_conflicts(store: Connection) -> None:
    ingest_bytes(store, ndjson(rec("team", "r1")), now=NOW)
    exc = invalid(store, ndjson(rec("team", "r1", name="Other")), source="f")
    assert exc.problems == [
        "f:1: field 'id': record id \"r1\" is already stored with different content"
    ]
    exc = invalid(
        store,
        ndjson(rec("team", "r9"), rec("agent", "r8"), rec("team", "r9", name="x")),
        source="f",
    )
    assert exc.problems == [
        "f:1: field 'id': record id \"r9\" has different content on line 3",
        "f:3: field 'id': record id \"r9\" has different content on line 1",
    ]


def test_a_stored_hash_is_only_a_fast_path(store: Connection) -> None:
    # As if the store's hashes came from a DuckDB whose hash function differs:
    # the columns decide between a re-send and a conflict.
    ingest_bytes(store, ndjson(rec("team", "r1"), rec("business_hours", "r2")), now=NOW)
    for table in ("r_team", "r_business_hours"):
        store.execute(f"UPDATE {table} SET content_hash = content_hash // 2")
    summary = ingest_bytes(store, ndjson(rec("team", "r1"), rec("business_hours", "r2")), now=NOW)
    assert (summary.total_stored, summary.duplicates) == (0, 2)
    exc = invalid(store, ndjson(rec("team", "r1", name="Other")), source="f")
    assert exc.problems == [
        "f:1: field 'id': record id \"r1\" is already stored with different content"
    ]
    exc = invalid(store, ndjson(rec("agent", "r1")), source="f")  # same id, another type
    assert exc.problems == [
        "f:1: field 'id': record id \"r1\" is already stored with different content"
    ]


def test_repeats_within_a_batch_are_stored_once(store: Connection) -> None:
    summary = ingest_bytes(store, ndjson(rec("team"), rec("team"), rec("team")), now=NOW)
    assert (summary.stored, summary.duplicates) == ({"team": 1}, 2)


def test_message_id_names_one_message(store: Connection) -> None:
    ingest_bytes(store, ndjson(rec("message", "r1")), now=NOW)
    exc = invalid(store, ndjson(rec("message", "r2")), source="f")
    assert exc.problems == [
        'f:1: field \'message_id\': message_id "m-1" is already used by stored record "r1"'
    ]
    exc = invalid(
        store,
        ndjson(rec("message", "r3", message_id="m-3"), rec("message", "r4", message_id="m-3")),
        source="f",
    )
    assert exc.problems == [
        'f:1: field \'message_id\': message_id "m-3" is also used by record "r4" on line 2',
        'f:2: field \'message_id\': message_id "m-3" is also used by record "r3" on line 1',
    ]


def test_arrival_order_does_not_matter(tmp_path: Path) -> None:
    from cxport.store import open_store

    lines = EXAMPLE.read_bytes().splitlines(keepends=True)
    one = open_store(tmp_path / "one.duckdb")
    ingest_files(one, [str(EXAMPLE)], now=NOW)
    random.Random(7).shuffle(lines)
    two = open_store(tmp_path / "two.duckdb")
    ingest_bytes(two, b"".join(lines[40:]), now=NOW)
    ingest_bytes(two, b"".join(lines[:45]), now=NOW)  # overlapping: re-sends too
    assert content(one) == content(two)


def test_workspaces_are_apart(store: Connection) -> None:
    ingest_bytes(store, ndjson(rec("team")), workspace="a", now=NOW)
    assert ingest_bytes(store, ndjson(rec("team", name="B")), workspace="b", now=NOW).stored == {
        "team": 1
    }


def test_future_timestamps_are_accepted_with_a_warning(store: Connection) -> None:
    data = ndjson(
        rec("team", "r1", at="2024-07-02T00:00:01Z"), rec("team", "r2", at="2024-07-01T23:00:00Z")
    )
    summary = ingest_bytes(store, data, now=NOW, source="f")
    assert summary.stored == {"team": 2}
    assert summary.warnings == [
        "f:1: field 'at': 2024-07-02T00:00:01.000Z is more than a day in the future (accepted)"
    ]


# Several files, skip-invalid, gzip, stdin -------------------------------------


def test_each_file_is_its_own_batch(store: Connection, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.ndjson", tmp_path / "bad.ndjson"
    good.write_bytes(ndjson(rec("team", "r1")))
    bad.write_bytes(ndjson(rec("team", "r2"), "{"))
    with pytest.raises(InvalidInput) as info:
        ingest_files(store, [str(good), str(bad)], now=NOW)
    assert "stored before it" in str(info.value)
    assert record_counts(store)["team"] == 1
    assert store.execute("SELECT count(*) FROM batches").fetchall() == [(1,)]


def test_skip_invalid_writes_rejected_lines_unchanged(store: Connection, tmp_path: Path) -> None:
    ingest_bytes(store, ndjson(rec("team", "r0")), now=NOW)
    bad_json = b'{"type": "team",\t"id": 1'
    data = (
        ndjson(rec("team", "r1"), rec("csat", "r2", score=5.0), rec("team", "r0", name="changed"))
        + bad_json + b"\n\xff\n" + ndjson(rec("team", "r1"))
    )  # fmt: skip
    rejects = tmp_path / "rejects.tsv"
    summary = ingest_bytes(
        store, data, source="body", skip_invalid=True, rejects_path=str(rejects), now=NOW
    )
    assert (summary.stored, summary.duplicates, summary.rejected) == ({"team": 1}, 1, 4)
    lines = data.split(b"\n")
    assert rejects.read_bytes().split(b"\n")[:-1] == [
        b"body\t2\tfield 'score': must be an integer 1-5, got 5.0\t" + lines[1],
        b"body\t3\tfield 'id': record id \"r0\" is already stored with different content\t"
        + lines[2],
        b"body\t4\tinvalid JSON\t" + bad_json,
        b"body\t5\tinvalid UTF-8 (byte 1 of the line)\t\xff",
    ]


def test_rejects_of_several_files_name_their_file(store: Connection, tmp_path: Path) -> None:
    first, second = tmp_path / "a.ndjson", tmp_path / "b\tc.ndjson"
    first.write_bytes(ndjson(rec("team", "r1"), rec("csat", "r2", score=7)))
    second.write_bytes(ndjson(rec("team", "r3", name=None), rec("team", "r4")))
    rejects = tmp_path / "rejects.tsv"
    summary = ingest_files(
        store, [str(first), str(second)], skip_invalid=True, rejects_path=str(rejects), now=NOW
    )
    assert (summary.total_stored, summary.rejected) == (2, 2)
    cells = [line.split(b"\t")[:3] for line in rejects.read_bytes().splitlines()]
    assert cells == [
        [str(first).encode(), b"2", b"field 'score': must be an integer 1-5, got 7"],
        [str(second).replace("\t", " ").encode(), b"1", b"field 'name': required"],
    ]


def test_skip_invalid_needs_a_rejects_file(store: Connection) -> None:
    with pytest.raises(UsageError):
        ingest_bytes(store, ndjson(rec("team")), skip_invalid=True)


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "cxport", *args], input=stdin, capture_output=True)


def test_cli_gzip_stdin_and_invalid_input(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    gz = tmp_path / "basic.ndjson.gz"
    gz.write_bytes(gzip.compress(EXAMPLE.read_bytes()))
    done = cli("ingest", "--db", str(db), str(gz))
    assert done.returncode == 0, done.stderr.decode()
    assert b"67" in done.stderr
    done = cli("ingest", "--db", str(db), "-", stdin=gzip.compress(EXAMPLE.read_bytes()))
    assert done.returncode == 0, done.stderr.decode()
    assert b"duplicates" in done.stderr
    done = cli("ingest", "--db", str(db), "-", stdin=ndjson(rec("csat", score=5.0)))
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "<stdin>: 1 invalid line; nothing from it was stored" in err
    assert "<stdin>:1: field 'score': must be an integer 1-5, got 5.0" in err
    done = cli("ingest", "--db", str(db), "--skip-invalid", "-", stdin=b"")
    assert done.returncode == 2 and b"--rejects" in done.stderr
    rejects = tmp_path / "rejects.tsv"
    bad = ndjson(rec("csat", score=5.0))
    done = cli(
        "ingest", "--db", str(db), "--skip-invalid", "--rejects", str(rejects), "-", stdin=bad
    )
    assert done.returncode == 0, done.stderr.decode()
    assert f"1 rejected line → {rejects}" in done.stderr.decode()
    assert rejects.read_bytes().startswith(b"<stdin>\t1\tfield 'score'")


def test_unreadable_file_and_empty_input(store: Connection, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        ingest_files(store, [str(tmp_path / "missing.ndjson")])
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"")
    summary = ingest_files(store, [str(empty)], now=NOW)
    assert (summary.total_stored, summary.rejected) == (0, 0)
    truncated = tmp_path / "cut.ndjson.gz"
    truncated.write_bytes(gzip.compress(EXAMPLE.read_bytes())[:-20])
    with pytest.raises(InvalidInput, match="cannot read"):
        ingest_files(store, [str(truncated)])
    assert sum(record_counts(store).values()) == 0


def test_duplicate_search_in_partitions(store: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    commit = importlib.import_module("cxport.ingest.commit")  # the module, not the function
    monkeypatch.setattr(commit, "DEDUPE_PARTITION_ROWS", 2)  # 4 lines: 3 partitions
    summary = ingest_bytes(
        store, ndjson(rec("team"), rec("agent", "r2"), rec("team"), rec("team")), now=NOW
    )
    assert (summary.stored, summary.duplicates) == ({"team": 1, "agent": 1}, 2)
    data = ndjson(
        rec("message", "m1"), rec("message", "m2"), rec("team", "t9"), rec("team", "t9", name="x")
    )
    exc = invalid(store, data, source="f")
    assert [p.split(": field ")[0] for p in exc.problems] == ["f:1", "f:2", "f:3", "f:4"]


def test_a_large_batch_is_checkpointed_under_the_ingest_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxport.store import open_store

    ingest = importlib.import_module("cxport.ingest")
    for threshold, wal_left in ((10**9, True), (2, False)):
        monkeypatch.setattr(ingest, "CHECKPOINT_LINES", threshold)
        db = tmp_path / f"store-{threshold}.duckdb"
        con = open_store(db)
        ingest_bytes(con, ndjson(rec("team", "r1"), rec("agent", "r2")), now=NOW)
        wal = Path(f"{db}.wal")
        assert (wal.exists() and wal.stat().st_size > 0) == wal_left
        con.close()


def test_overlapping_batches_get_ids_of_their_own(store: Connection) -> None:
    from cxport.ingest.batch import Batch

    first = Batch(store.cursor(), "a", "default", False, NOW)
    second = Batch(store.cursor(), "b", "default", False, NOW)
    try:
        assert second.batch_id == first.batch_id + 1
    finally:
        first.close()
        second.close()
    # Rolled back, their ids are not reused: ids name batches, gaps are fine.
    summary = ingest_bytes(store, ndjson(rec("team", "r1")), now=NOW)
    assert summary.batches[0].batch_id == second.batch_id + 1


def test_copy_lines_holds_only_its_own_rows() -> None:
    lines = [f'{{"n": {i}, "s": "é{i}"}}\n' for i in range(1000)]
    table = pa.table({"lineno": pa.array(range(1, 1001), pa.int64()), "line": lines})
    part = table.slice(250, 100)
    copy = copy_lines(part)
    assert copy.equals(part)
    assert copy.column("line").chunk(0).buffers()[2].size == sum(
        len(x.encode()) for x in lines[250:350]
    )
    with_null = pa.table(
        {"lineno": pa.array([1, 2, 3], pa.int64()), "line": ["a", None, "c"]}
    ).slice(1)
    assert copy_lines(with_null).equals(with_null)
