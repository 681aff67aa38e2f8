"""A `business_hours` version refreshes the kept facts in place (issue 18).

It touches the conversations whose first response it may change: those whose
first response spans a time in which their channel's calendar changed (the
calendar a channel follows: the one naming it, else the default). A channel
switching calendars is such a change, found through the calendar it follows
before and now (falling back to the default when none names it); a switch to
a calendar with the same business time touches nothing. Each case checks the
touched conversations against that, checks that every first response that
did change is among them, and compares the refreshed kept facts with a whole
build and the exports with those of a store built in one go.
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


def _stored(calendar: str) -> list[Record]:
    """The simulated versions of `calendar`, calendar edits left out."""
    return [r for r in _simulated() if r.get("calendar_id") == calendar and not _calendar_edit(r)]


def _version(calendar: str, at: str, **fields: Any) -> Record:
    base = _stored(calendar)[0]
    return {**base, "id": f"new-{calendar}", "at": at, "weekly": WEEKLY, **fields}


# ch-wa-sac (on the default) gets a calendar of its own whose versions are the
# default's: its calendar never differs, whatever carries it.
SAME_AS_DEFAULT = [
    {**r, "id": f"new-{r['id']}", "calendar_id": "cal-a", "channel_ids": ["ch-wa-sac"]}
    for r in _stored("cal-padrao")
]


def _first_responses(con: Connection) -> dict[str, tuple[Any, ...]]:
    """conversation_id -> (channel_id, start_at, end_at, business_ms), kept."""
    schema = _schema(con)
    rows = con.execute(
        "SELECT conversation_id, channel_id, start_at, end_at, business_ms"
        f" FROM {schema}.f_first_response"
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def _kept_then(
    con: Connection, tmp_path: Path, versions: list[Record], stored: tuple[Record, ...] = ()
) -> tuple[list[Record], dict[str, tuple[Any, ...]], kept_plan.Plan, set[str]]:
    """The workspace (with `stored`) stored and its kept facts built, then
    `versions` stored: the records, the kept first responses, and the plan of
    the refresh with its touched conversations."""
    records = [*(r for r in _simulated() if not _calendar_edit(r)), *stored]
    _ingest(con, tmp_path / "all.ndjson", records)
    kept.refresh(con, WS)
    before = _first_responses(con)
    _ingest(con, tmp_path / "hours.ndjson", versions)
    plan, touched = _plan(con, max(_instant(r) for r in records))
    return records, before, plan, touched


# (versions, channels whose calendar changes from `since` on)
CASES = {
    "one channel's calendar": ([_version("cal-email", EARLY)], {"ch-email"}, EARLY),
    "the default calendar": ([_version("cal-padrao", LATE)], DEFAULT_CHANNELS, LATE),
    # cal-a sorts before cal-email, so ch-email follows it; ch-web leaves the default.
    "channels switching calendars": (
        [_version("cal-email", LATE, calendar_id="cal-a", channel_ids=["ch-email", "ch-web"])],
        {"ch-email", "ch-web"},
        LATE,
    ),
    # Newly named: before, its key's calendar was the default (the fallback).
    "a channel leaving the default": (
        [_version("cal-email", EARLY, calendar_id="cal-a", channel_ids=["ch-wa-sac"])],
        {"ch-wa-sac"},
        EARLY,
    ),
    # No longer named: ch-tw falls back to the default; ch-ig and ch-fb keep theirs.
    "a channel falling back to the default": (
        [
            _version(
                "cal-social",
                EARLY,
                weekly=_stored("cal-social")[0]["weekly"],
                channel_ids=["ch-ig", "ch-fb"],
            )
        ],
        {"ch-tw"},
        EARLY,
    ),
    "a switch to the same business time": (SAME_AS_DEFAULT, set(), EARLY),
}


@pytest.mark.parametrize("case", CASES)
def test_a_calendar_version_touches_the_conversations_of_its_channels(
    case: str, tmp_path: Path
) -> None:
    versions, channels, since = CASES[case]
    con = open_store(tmp_path / "store.duckdb")
    try:
        records, before, plan, touched = _kept_then(con, tmp_path, versions)
        schema = _schema(con)
        from_at = dt.datetime.fromisoformat(since.replace("Z", "+00:00")).replace(tzinfo=None)
        expected = {
            cid
            for cid, (channel, start, end, _) in before.items()
            if channel in channels and start is not None and end >= from_at
        }
        assert bool(expected) == bool(channels)
        assert not plan.full and touched == expected
        assert plan.conversations == len(expected) and plan.contacts == 0 and plan.agents == 0
        found, built = kept.refresh(con, WS)
        assert built and found is not None and found.schema == schema
        after = _first_responses(con)
        changed = {cid for cid, row in after.items() if before[cid] != row}
        assert changed <= touched and bool(changed) == bool(channels)
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


# ch-wa-sac named by a calendar of its own from LATE on, before the edit: a
# key of its own, following the default until then.
NAMED_LATER = (
    _version("cal-email", LATE, id="new-cal-a", calendar_id="cal-a", channel_ids=["ch-wa-sac"]),
)


@pytest.mark.parametrize("stored", [(), NAMED_LATER], ids=["", "a channel named later"])
def test_a_version_in_force_for_a_while_touches_the_first_responses_of_that_while(
    stored: tuple[Record, ...], tmp_path: Path
) -> None:
    """A default-calendar version superseded by one already stored changes
    business time between the two only, for every channel following the
    default then (one named by a calendar only later included)."""
    con = open_store(tmp_path / "store.duckdb")
    try:
        _, before, plan, touched = _kept_then(
            con, tmp_path, [_version("cal-padrao", EARLY)], stored
        )
        assert not plan.full
        # The stored default version of 2024-05-02 03:00 UTC takes over (ch-wa-norte
        # has its own calendar from 02:00 on; ch-wa-sac's own, from LATE, comes after).
        until = {c: dt.datetime(2024, 5, 2, 3) for c in DEFAULT_CHANNELS}
        until["ch-wa-norte"] = dt.datetime(2024, 5, 2, 2)
        assert touched == {
            cid
            for cid, (channel, start, _, _) in before.items()
            if channel in until and start is not None and start < until[channel]
        }
        assert touched and len(touched) < len(before)
        assert any(before[cid][0] == "ch-wa-sac" for cid in touched)
        kept.refresh(con, WS)
        _check_against_whole_build(con)
    finally:
        con.close()
