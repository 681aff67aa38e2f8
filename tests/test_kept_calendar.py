"""A `business_hours` version refreshes the kept facts in place (issue 18).

It touches the conversations whose first response it may change: those of the
channels whose calendar it changes, whose first response spans a time it
changed; and every conversation of a channel it gives a calendar of its own
(their `calendar_key`). Each case checks the touched conversations against
that, checks that every first response whose business time or key did change
is among them, and compares the refreshed kept facts with a whole build and
the exports with those of a store built in one go.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from test_kept_incremental import (
    WS,
    Record,
    _calendar_edit,
    _check_against_whole_build,
    _files,
    _ingest,
    _instant,
    _plan,
    _schema,
    _simulated,
)

from cxport.exports import kept, kept_plan
from cxport.store import Connection, open_store

EARLY = "2024-05-01T00:00:00.000Z"  # before every message
LATE = "2024-05-02T06:00:00.000Z"  # after the default calendar's own version
WEEKLY = {"mon": [["10:00", "11:00"]], "thu": [["12:00", "13:00"]]}
DEFAULT_CHANNELS = {"ch-wa-sac", "ch-wa-vendas", "ch-web", "ch-sms"}  # ch-wa-norte has its own


def _version(calendar: str, at: str, **fields: Any) -> Record:
    base = next(r for r in _simulated() if r.get("calendar_id") == calendar)
    return {**base, "id": f"new-{calendar}", "at": at, "weekly": WEEKLY, **fields}


def _first_responses(con: Connection) -> dict[str, tuple[Any, ...]]:
    """conversation_id -> (channel_id, calendar_key, start_at, end_at, business_ms), kept."""
    schema = _schema(con)
    rows = con.execute(
        "SELECT conversation_id, channel_id, calendar_key, start_at, end_at, business_ms"
        f" FROM {schema}.f_first_response"
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def _kept_then(
    con: Connection, tmp_path: Path, versions: list[Record]
) -> tuple[list[Record], dict[str, tuple[Any, ...]], kept_plan.Plan, set[str]]:
    """The workspace stored and its kept facts built, then `versions` stored: the
    records, the kept first responses, and the plan of the refresh with its
    touched conversations."""
    records = [r for r in _simulated() if not _calendar_edit(r)]
    _ingest(con, tmp_path / "all.ndjson", records)
    kept.refresh(con, WS)
    before = _first_responses(con)
    _ingest(con, tmp_path / "hours.ndjson", versions)
    plan, touched = _plan(con, max(_instant(r) for r in records))
    return records, before, plan, touched


# (versions, channels whose calendar changes from `since` on, channels now named)
CASES = {
    "one channel's calendar": ([_version("cal-email", EARLY)], {"ch-email"}, EARLY, set()),
    "the default calendar": ([_version("cal-padrao", LATE)], DEFAULT_CHANNELS, LATE, set()),
    # cal-a sorts before cal-email, so ch-email follows it; ch-web leaves the
    # default (its first responses, all before, change their key only).
    "channels switching calendars": (
        [_version("cal-email", LATE, calendar_id="cal-a", channel_ids=["ch-email", "ch-web"])],
        {"ch-email", "ch-web"},
        LATE,
        {"ch-web"},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_calendar_version_touches_the_conversations_of_its_channels(
    case: str, tmp_path: Path
) -> None:
    versions, channels, since, named = CASES[case]
    con = open_store(tmp_path / "store.duckdb")
    try:
        records, before, plan, touched = _kept_then(con, tmp_path, versions)
        schema = _schema(con)
        from_at = dt.datetime.fromisoformat(since.replace("Z", "+00:00")).replace(tzinfo=None)
        expected = {
            cid
            for cid, (channel, _, start, end, _) in before.items()
            if channel in named or (channel in channels and start is not None and end >= from_at)
        }
        assert not plan.full and expected and touched == expected
        assert plan.contacts == 0 and plan.agents == 0
        found, built = kept.refresh(con, WS)
        assert built and found is not None and found.schema == schema
        after = _first_responses(con)
        changed = {cid for cid, row in after.items() if before[cid][1:] != row[1:]}
        assert changed and changed <= touched
        _check_against_whole_build(con)
        from_kept = _files(con, tmp_path / "kept", use_kept=True)
    finally:
        con.close()
    whole = open_store(tmp_path / "whole.duckdb")
    try:
        _ingest(whole, tmp_path / "whole.ndjson", [*records, *versions])
        assert from_kept == _files(whole, tmp_path / "whole", use_kept=True)
    finally:
        whole.close()


def test_a_version_in_force_for_a_while_touches_the_first_responses_of_that_while(
    tmp_path: Path,
) -> None:
    """A default-calendar version superseded by one already stored changes
    business time between the two only."""
    con = open_store(tmp_path / "store.duckdb")
    try:
        _, before, plan, touched = _kept_then(con, tmp_path, [_version("cal-padrao", EARLY)])
        assert not plan.full
        # The stored default version of 2024-05-02 03:00 UTC takes over (ch-wa-norte
        # has its own calendar from 02:00 on).
        until = {c: dt.datetime(2024, 5, 2, 3) for c in DEFAULT_CHANNELS}
        until["ch-wa-norte"] = dt.datetime(2024, 5, 2, 2)
        assert touched == {
            cid
            for cid, (channel, _, start, _, _) in before.items()
            if channel in until and start is not None and start < until[channel]
        }
        assert touched and len(touched) < len(before)
        kept.refresh(con, WS)
        _check_against_whole_build(con)
    finally:
        con.close()
