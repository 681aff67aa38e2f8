"""Kept facts follow the records (issue 18): a batch refreshes what it touched.

The contract, as a property: a simulated workspace (with entity versions,
calendar edits, a conversation moved to another contact, a tag on a message
that never arrives) split into random batches, in time order or shuffled,
with records re-sent in later batches, is ingested one batch at a time, each
followed by `kept.refresh` as `cxport ingest` and `POST /records` call it.
After every batch, the refreshed kept facts hold exactly the rows (as exports
read them at `as_of`) of kept facts built whole from the same records; after
the last, all twelve exports (with and without a channel filter, over two
ranges) read from them are byte-equal to those of a store built in one go
(whose kept files `test_kept.py` compares with files computed at request
time). The kept schema must stay the same one (refreshed in place), a
calendar edit included.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from pathlib import Path
from typing import Any

import pytest
from helpers import write_ndjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxport.exports import kept, kept_plan
from cxport.exports.defs import EXPORTS
from cxport.exports.request import ExportRequest
from cxport.exports.runner import run_exports
from cxport.ingest import ingest_files
from cxport.store import Connection, open_store

WS = "default"
START = dt.date(2024, 5, 1)
AS_OF = dt.datetime(2024, 5, 6, tzinfo=dt.UTC)  # after every record
CHANNEL = "ch-wa-sac"  # the busiest simulated channel
# The whole simulation, and a range that cuts it (and its conversations) in two.
RANGES = ((dt.date(2024, 5, 1), dt.date(2024, 5, 5)), (dt.date(2024, 5, 2), dt.date(2024, 5, 2)))
ALL = [d.name for d in EXPORTS]

Record = dict[str, Any]


@functools.cache
def _simulated() -> tuple[Record, ...]:
    """A small simulated workspace (two days, 24 conversations), and extra records."""
    import tempfile

    from cxport.simulate import simulate

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sim.ndjson"
        simulate(path, seed=5, conversations=24, start=START, days=2)
        records = [json.loads(line) for line in path.read_text().splitlines()]
    return (*records, *_extra(records))


def _extra(records: list[Record]) -> list[Record]:
    """Entity versions, calendar edits (`x-hours*`: one channel's calendar, the
    default one, channels switching calendars), a moved conversation, orphan events."""

    def first(kind: str) -> Record:
        return next(r for r in records if r["type"] == kind)

    mid = "2024-05-02T12:00:00.000Z"
    topic, tag, attr, contact = (
        first("topic"),
        first("tag"),
        first("contact_attribute_definition"),
        first("contact"),
    )
    convs = [r for r in records if r["type"] == "conversation"]
    moved = convs[3]
    other = next(c for c in convs if c["contact_profile_id"] != moved["contact_profile_id"])
    hours = next(r for r in records if r["type"] == "business_hours" and r.get("channel_ids"))
    default = next(r for r in records if r["type"] == "business_hours" and not r.get("channel_ids"))
    social = next(r for r in records if r.get("calendar_id") == "cal-social")
    message = first("message")
    return [
        {**topic, "id": "x-topic", "at": mid, "name": "Renamed topic"},
        {**tag, "id": "x-tag", "at": mid, "name": "Renamed tag"},
        {**attr, "id": "x-attr", "at": mid, "name": "Renamed attribute"},
        {**contact, "id": "x-contact", "at": mid, "primary_identifier": "+5500000000000"},
        {
            **moved,
            "id": "x-moved",
            "at": mid,
            "contact_profile_id": other["contact_profile_id"],
            "channel_id": CHANNEL,
        },
        {**first("channel"), "id": "x-channel", "at": mid, "name": "Renamed channel"},
        {**first("agent"), "id": "x-agent", "at": mid, "name": "Renamed agent"},
        {
            **hours,
            "id": "x-hours",
            "at": mid,
            "weekly": {"mon": [["10:00", "11:00"]], "thu": [["07:00", "23:00"]]},
        },
        {**default, "id": "x-hours-default", "at": mid, "weekly": {"thu": [["13:00", "14:00"]]}},
        # ch-tw leaves for the default calendar, ch-web (on the default) joins.
        {**social, "id": "x-hours-switch", "at": mid, "channel_ids": ["ch-ig", "ch-fb", "ch-web"]},
        {
            "type": "tag_applied",
            "id": "x-orphan-tag",
            "at": mid,
            "message_id": "m-never",
            "tag_id": tag["tag_id"],
            "agent_id": first("agent")["agent_id"],
        },
        {
            "type": "message_deleted",
            "id": "x-deleted",
            "at": mid,
            "message_id": message["message_id"],
        },
    ]


def _calendar_edit(r: Record) -> bool:
    return str(r["id"]).startswith("x-hours")


def _instant(r: Record) -> dt.datetime:
    return dt.datetime.fromisoformat(r["at"].replace("Z", "+00:00")).astimezone(dt.UTC)


def _requests(as_of: dt.datetime = AS_OF) -> list[ExportRequest]:
    return [
        ExportRequest(export=name, date_from=lo, date_to=hi, as_of=as_of, channels=channels)
        for lo, hi in RANGES
        for channels in ((), (CHANNEL,))
        for name in ALL
    ]


def _files(con: Connection, folder: Path, use_kept: bool) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(r, folder / f"{i:02d}-{r.export}.csv") for i, r in enumerate(_requests())]
    results = run_exports(con, jobs, use_kept=use_kept)
    assert all(res.kept == use_kept for res in results), "kept facts were not current"
    return {p.name: p.read_bytes() for _, p in jobs}


def _differences(con: Connection, refreshed: str, built: str) -> dict[str, int]:
    """Per stored fact, the rows of one schema not in the other (both ways), as
    exports read them at `AS_OF` (`keep.at_as_of_text`)."""
    from zoneinfo import ZoneInfo

    from cxport.exports import engine
    from cxport.exports.facts import define_request
    from cxport.exports.keep import Keep, at_as_of_text

    cur = con.cursor()
    try:
        engine.install(cur, ZoneInfo("UTC"), con)
        define_request(cur, None, None, AS_OF.replace(tzinfo=None))
        out = {}
        for fact in kept.kept_facts():
            if fact.name not in kept.stored_facts():
                continue

            def rows(schema: str, keep: Keep = fact) -> str:
                return f"SELECT * FROM ({at_as_of_text(keep, f'{schema}.{keep.name}')}) AS k"

            a, b = rows(refreshed), rows(built)
            (n,) = cur.execute(
                f"SELECT (SELECT count(*) FROM ({a} EXCEPT ALL {b})) +"
                f" (SELECT count(*) FROM ({b} EXCEPT ALL {a}))"
            ).fetchone() or (0,)
            if n:
                out[fact.name] = int(n)
        return out
    finally:
        cur.close()


def _check_against_whole_build(con: Connection) -> None:
    """The refreshed kept facts hold the rows a whole build at the same horizon holds."""
    found = kept.current(con, WS, AS_OF.replace(tzinfo=None))
    assert found is not None
    cur = con.cursor()
    try:
        built = kept.build_schema(con, cur, WS, found.horizon)
    finally:
        cur.close()
    try:
        assert _differences(con, found.schema, built) == {}
    finally:
        con.execute(f"DROP SCHEMA {built} CASCADE")


def _schema(con: Connection) -> str | None:
    row = con.execute("SELECT schema_name FROM kept_facts WHERE workspace = ?", [WS]).fetchone()
    return None if row is None else str(row[0])


def _ingest(con: Connection, path: Path, records: list[Record]) -> None:
    ingest_files(con, [str(write_ndjson(path, records))], workspace=WS)


def _batches(data: st.DataObject) -> list[list[Record]]:
    records = list(_simulated())
    rnd = random.Random(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    if data.draw(st.booleans(), label="shuffled"):
        rnd.shuffle(records)
    else:
        records.sort(key=lambda r: (_instant(r), r["id"]))
    # A calendar edit is held back to the last batch (the simplest draw), after
    # the first responses it changes are kept; or left among the others.
    edits = [r for r in records if _calendar_edit(r)]
    late = [e for e in edits if not data.draw(st.booleans(), label=f"{e['id']} in place")]
    records = [r for r in records if r not in late]
    n = data.draw(st.integers(3, 8), label="batches")
    cuts = sorted(rnd.sample(range(1, len(records)), n - 1))
    batches = [records[a:b] for a, b in zip([0, *cuts], [*cuts, len(records)], strict=True)]
    # Re-sends: a few records of earlier batches again (stored once).
    for i in range(1, n):
        earlier = [r for b in batches[:i] for r in b]
        batches[i] = batches[i] + rnd.sample(earlier, min(len(earlier), rnd.randint(0, 5)))
    batches[-1] += late
    return batches


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_after_every_batch_kept_exports_equal_those_of_a_store_built_in_one_go(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("incremental")
    batches = _batches(data)
    con = open_store(folder / "store.duckdb")
    try:
        schema = None
        for i, batch in enumerate(batches):
            _ingest(con, folder / f"batch-{i}.ndjson", batch)
            found, _ = kept.refresh(con, WS)
            assert found is not None
            if schema is not None:
                assert _schema(con) == schema, "a batch rebuilt the kept facts whole"
            schema = _schema(con)
            _check_against_whole_build(con)
        from_kept = _files(con, folder / "kept", use_kept=True)
    finally:
        con.close()
    union = list({r["id"]: r for b in batches for r in b}.values())
    whole = open_store(folder / "whole.duckdb")
    try:
        _ingest(whole, folder / "whole.ndjson", union)
        expected = _files(whole, folder / "whole", use_kept=True)
    finally:
        whole.close()
    assert from_kept == expected


def test_a_batch_of_duplicates_changes_nothing_and_rebuilds_nothing(tmp_path: Path) -> None:
    records = list(_simulated())
    con = open_store(tmp_path / "store.duckdb")
    try:
        _ingest(con, tmp_path / "all.ndjson", records)
        found, built = kept.refresh(con, WS)
        assert found is not None and built
        before = con.execute("SELECT batch_id, built_at FROM kept_facts").fetchall()
        _ingest(con, tmp_path / "again.ndjson", records[:50])  # every record a re-send
        assert kept.current(con, WS, AS_OF.replace(tzinfo=None)) == found
        again, built = kept.refresh(con, WS)
        assert again == found and not built
        assert con.execute("SELECT batch_id, built_at FROM kept_facts").fetchall() == before
    finally:
        con.close()


def _plan(con: Connection, horizon: dt.datetime) -> tuple[kept_plan.Plan, set[str]]:
    """The plan of a refresh at `horizon` since the kept facts' batch, and its touched conversations."""
    (since, schema) = con.execute("SELECT batch_id, schema_name FROM kept_facts").fetchone() or (
        0,
        "",
    )
    cur = con.cursor()
    try:
        kept._define_snapshot(con, cur, WS, horizon)
        plan = kept_plan.plan(cur, WS, int(since), str(schema))
        return plan, {r[0] for r in cur.execute("SELECT id FROM t_conversation").fetchall()}
    finally:
        cur.close()


def test_a_batch_refreshes_only_what_it_touched(tmp_path: Path) -> None:
    """One new message of one conversation: that conversation, its contact and
    its messages are touched; the kept schema stays, the horizon moves."""
    records = list(_simulated())
    con = open_store(tmp_path / "store.duckdb")
    try:
        _ingest(con, tmp_path / "all.ndjson", [r for r in records if not _calendar_edit(r)])
        kept.refresh(con, WS)
        schema = _schema(con)
        last = max(_instant(r) for r in records)
        conv = next(r for r in records if r["type"] == "conversation" and r["id"] != "x-moved")
        new = {
            "type": "message", "id": "new-1", "at": (last + dt.timedelta(minutes=5)).isoformat(),
            "message_id": "m-new-1", "conversation_id": conv["conversation_id"],
            "direction": "INBOUND", "source": "CONTACT", "message_type": "PRIVATE_MESSAGE",
        }  # fmt: skip
        _ingest(con, tmp_path / "new.ndjson", [new])
        plan, touched = _plan(con, last + dt.timedelta(minutes=5))
        assert not plan.full
        assert conv["conversation_id"] in touched
        assert plan.conversations < 5 and plan.contacts == 1
        found, built = kept.refresh(con, WS)
        assert built and found is not None and found.schema == schema
        assert found.horizon == (last + dt.timedelta(minutes=5)).replace(tzinfo=None)
        from_kept = _files(con, tmp_path / "kept", use_kept=True)
        computed = _files(con, tmp_path / "computed", use_kept=False)
        assert from_kept == computed
    finally:
        con.close()


def test_a_renamed_topic_refreshes_its_conversations_not_their_contacts(tmp_path: Path) -> None:
    """A topic version changes the summaries of the conversations carrying it:
    those are refreshed; their contacts and agents are not touched."""
    records = [r for r in _simulated() if not _calendar_edit(r) and r["id"] != "x-topic"]
    con = open_store(tmp_path / "store.duckdb")
    try:
        _ingest(con, tmp_path / "all.ndjson", records)
        kept.refresh(con, WS)
        schema = _schema(con)
        last = max(_instant(r) for r in records)
        topic = next(r for r in records if r["type"] == "topic")
        carrying = {
            r["conversation_id"]
            for r in records
            if r["type"] == "topic_applied" and r["topic_id"] == topic["topic_id"]
        }
        assert carrying
        at = (last + dt.timedelta(minutes=5)).isoformat()
        _ingest(
            con, tmp_path / "new.ndjson", [{**topic, "id": "new-topic", "at": at, "name": "New"}]
        )
        plan, touched = _plan(con, last + dt.timedelta(minutes=5))
        assert not plan.full and touched == carrying
        assert plan.contacts == 0 and plan.agents == 0
        found, built = kept.refresh(con, WS)
        assert built and found is not None and found.schema == schema
        _check_against_whole_build(con)
        assert _files(con, tmp_path / "kept", use_kept=True) == _files(
            con, tmp_path / "computed", use_kept=False
        )
    finally:
        con.close()
