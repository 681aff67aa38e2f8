"""Lock sessions: the six ending rules and the three classes (`metrics.md`).

Each agent below plays one rule in its own conversation; the expected end,
rule, class and duration are worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import fact_rows, ingest_records
from record_builders import lock, presence, reply, status, ts, unlock

from cxport.exports.facts.locks import open_time

AS_OF = "2024-06-10T12:00:00Z"

RECORDS = [
    # 1. unlock by the same agent; a reply before the session does not count.
    reply("r1", "06-10 08:59", "cv-1", "a1"),
    lock("l1", "06-10 09:00", "cv-1", "a1", "t1"),
    unlock("u1", "06-10 09:10", "cv-1", "a1"),
    # 4. another agent's unlock does not end it; PENDING does.
    lock("l2", "06-10 09:00", "cv-2", "a2", "t2"),
    unlock("u2", "06-10 09:05", "cv-2", "a3"),
    reply("r2", "06-10 09:06", "cv-2", "a2"),
    status("s2", "06-10 09:20", "cv-2", "PENDING", agent_id="a2"),
    # 2. the agent's next lock (another conversation); 5. then AWAY, with a reply at
    # that very instant (inside [start, end]).
    lock("l3", "06-10 09:00", "cv-3", "a4"),
    lock("l4", "06-10 09:30", "cv-4", "a4"),
    reply("r4", "06-10 10:00", "cv-4", "a4"),
    presence("p4", "06-10 10:00", "a4", "AWAY"),
    # 3. stolen; the thief resolves without a reply: no reply.
    lock("l5", "06-10 09:00", "cv-5", "a5"),
    lock("l6", "06-10 09:05", "cv-5", "a6"),
    status("s6", "06-10 09:15", "cv-5", "RESOLVED", agent_id="a6"),
    # 4. resolved by someone else: cherry picking.
    lock("l7", "06-10 09:00", "cv-6", "a7"),
    status("s7", "06-10 09:10", "cv-6", "RESOLVED", agent_id="a8"),
    # 6. nothing ends it: open at the snapshot; AVAILABLE and a virtual agent's
    # lock change nothing.
    lock("l8", "06-10 09:00", "cv-7", "a9"),
    presence("p8", "06-10 10:00", "a9", "AVAILABLE"),
    {"type": "lock", "id": "v8", "at": ts("06-10 10:30"), "conversation_id": "cv-7",
     "virtual_agent_id": "va-1"},
    reply("r8", "06-10 11:00", "cv-7", "a9"),
    # An unlock and a resolution at one instant: the unlock ends it (it ranks
    # first), the resolution at the end instant makes it no reply.
    lock("l9", "06-10 09:00", "cv-8", "a10"),
    unlock("u9", "06-10 09:30", "cv-8", "a10"),
    status("s9", "06-10 09:30", "cv-8", "RESOLVED", agent_id="a10"),
    # A presence change at the lock's instant comes after it: a 0 s session.
    lock("l10", "06-10 11:00", "cv-9", "a11"),
    presence("p10", "06-10 11:00", "a11", "OFFLINE"),
    # The agent locks the conversation again, then unlocks: the second lock ends
    # the first (next lock), the unlock only the second.
    lock("l12", "06-10 09:00", "cv-11", "a13"),
    lock("l13", "06-10 09:10", "cv-11", "a13"),
    unlock("u13", "06-10 09:20", "cv-11", "a13"),
    # After the snapshot: invisible, so l11 stays open.
    lock("l11", "06-10 11:30", "cv-10", "a12"),
    unlock("u11", "06-10 12:30", "cv-10", "a12"),
]  # fmt: skip

MIN = 60_000

EXPECTED = {
    # lock: (agent, conversation, team, ended_at, end_rule, class, duration_ms)
    "l1": ("a1", "cv-1", "t1", "06-10 09:10", "unlock", "cherry_picking", 10 * MIN),
    "l2": ("a2", "cv-2", "t2", "06-10 09:20", "status_change", "handle", 20 * MIN),
    "l3": ("a4", "cv-3", None, "06-10 09:30", "next_lock", "cherry_picking", 30 * MIN),
    "l4": ("a4", "cv-4", None, "06-10 10:00", "presence", "handle", 30 * MIN),
    "l5": ("a5", "cv-5", None, "06-10 09:05", "stolen", "cherry_picking", 5 * MIN),
    "l6": ("a6", "cv-5", None, "06-10 09:15", "status_change", "no_reply", 10 * MIN),
    "l7": ("a7", "cv-6", None, "06-10 09:10", "status_change", "cherry_picking", 10 * MIN),
    "l8": ("a9", "cv-7", None, "06-10 12:00", "as_of", "handle", 180 * MIN),
    "l9": ("a10", "cv-8", None, "06-10 09:30", "unlock", "no_reply", 30 * MIN),
    "l10": ("a11", "cv-9", None, "06-10 11:00", "presence", "cherry_picking", 0),
    "l11": ("a12", "cv-10", None, "06-10 12:00", "as_of", "cherry_picking", 30 * MIN),
    "l12": ("a13", "cv-11", None, "06-10 09:10", "next_lock", "cherry_picking", 10 * MIN),
    "l13": ("a13", "cv-11", None, "06-10 09:20", "unlock", "cherry_picking", 10 * MIN),
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("locks") / "store.duckdb"
    ingest_records(path, RECORDS)
    return path


def test_each_ending_rule_and_class(db: Path) -> None:
    rows = fact_rows(
        db,
        ("f_lock_session",),
        "SELECT lock_record_id, agent_id, conversation_id, team_id,"
        " strftime(ended_at, '%m-%d %H:%M'), end_rule, class, duration_ms FROM f_lock_session",
        as_of=AS_OF,
    )
    assert {r[0]: r[1:] for r in rows} == EXPECTED


def test_sessions_start_at_their_lock(db: Path) -> None:
    rows = fact_rows(
        db,
        ("f_lock_session",),
        "SELECT count(*) FROM f_lock_session AS f JOIN s_lock AS l"
        ' ON l.record_id = f.lock_record_id AND l."at" = f.started_at',
        as_of=AS_OF,
    )
    assert rows == [(len(EXPECTED),)]


def test_time_per_conversation_by_class(db: Path) -> None:
    rows = fact_rows(
        db,
        ("f_conversation_lock_time",),
        "SELECT conversation_id, handle_ms, no_reply_ms, cherry_picking_ms, open_class,"
        f" strftime(open_since, '%m-%d %H:%M'), {open_time('c', 'handle')}"
        " FROM f_conversation_lock_time AS c CROSS JOIN req AS r"
        " WHERE conversation_id IN ('cv-5', 'cv-7') ORDER BY conversation_id",
        as_of=AS_OF,
    )
    # cv-7's only session (l8, handle) is open: its 180 minutes run to `as_of`,
    # added by the reader, not kept in the fact.
    assert rows == [
        ("cv-5", 0, 10 * MIN, 5 * MIN, None, None, 0),
        ("cv-7", 0, 0, 0, "handle", "06-10 09:00", 180 * MIN),
    ]
