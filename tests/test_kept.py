"""Kept facts (`cxport.exports.kept`): the same bytes as facts computed at request time.

One simulated workspace (plus a batch leaving two lock sessions open at the
snapshot) is built once; each test that changes the store works on a copy of
it. Files written from kept facts are compared with `use_kept=False` files;
the other tests cover when kept facts may be read: new batches, an `as_of`
before the horizon, other workspaces, changed definitions, read-only stores.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from helpers import rows, stored_differences, write_ndjson
from record_builders import agent, channel, conversation, inbound, lock, presence, reply, status

from cxport.exports import kept
from cxport.exports.defs import EXPORTS
from cxport.exports.facts import define_scope
from cxport.exports.request import ExportRequest
from cxport.exports.runner import ExportResult, run_export, run_exports
from cxport.ingest import ingest_files
from cxport.store import Connection, open_store

UTC = dt.UTC
WS = "default"
CHANNEL = "ch-wa-sac"  # a simulated channel; the open sessions below are on it
FROM, TO = dt.date(2024, 5, 1), dt.date(2024, 5, 31)  # the simulation: May 1st to 14th
# Both after the horizon (the last record, 2024-05-15 UTC), inside the range.
AS_OF_1 = dt.datetime(2024, 5, 20, tzinfo=UTC)
AS_OF_2 = dt.datetime(2024, 5, 21, 6, 30, tzinfo=UTC)
FAR = dt.datetime(2100, 1, 1, tzinfo=UTC)
BEFORE = dt.datetime(2024, 5, 8, 12, tzinfo=UTC)  # before the horizon
ALL = [d.name for d in EXPORTS]

# Two conversations whose lock sessions are still open at any later `as_of`:
# one handled (a reply inside it), one cherry-picked (no reply, not resolved).
# The first agent is available from 20:00 on: its utilization runs to `as_of` too.
AVAILABLE_SINCE = dt.datetime(2024, 5, 14, 20, 0)
HANDLED_SINCE = dt.datetime(2024, 5, 14, 20, 5)
PICKED_SINCE = dt.datetime(2024, 5, 14, 21, 5)
OPEN_SESSIONS = [
    agent("kt-a1", "ag-kt-1", "Kept One"),
    presence("kt-p1", "05-14 20:00", "ag-kt-1", "AVAILABLE"),
    agent("kt-a2", "ag-kt-2", "Kept Two"),
    conversation("kt-c1", "cv-kt-1", CHANNEL, "ct-kt-1", "05-14 20:00"),
    status("kt-s1", "05-14 20:00", "cv-kt-1", "NEW"),
    inbound("kt-i1", "05-14 20:00:05", "cv-kt-1"),
    lock("kt-l1", "05-14 20:05", "cv-kt-1", "ag-kt-1"),
    reply("kt-r1", "05-14 20:10", "cv-kt-1", "ag-kt-1"),
    conversation("kt-c2", "cv-kt-2", CHANNEL, "ct-kt-2", "05-14 21:00"),
    status("kt-s2", "05-14 21:00", "cv-kt-2", "NEW"),
    inbound("kt-i2", "05-14 21:00:05", "cv-kt-2"),
    lock("kt-l2", "05-14 21:05", "cv-kt-2", "ag-kt-2"),
]

# A later batch: a conversation answered and resolved on May 10th, before the
# horizon (only the batch id tells the kept facts are stale).
LATE_BATCH = [
    conversation("nb-c1", "cv-late-1", CHANNEL, "ct-late-1", "05-10 10:00"),
    status("nb-s0", "05-10 10:00", "cv-late-1", "NEW"),
    inbound("nb-i1", "05-10 10:00:05", "cv-late-1"),
    lock("nb-l1", "05-10 10:01", "cv-late-1", "ag-kt-1"),
    reply("nb-r1", "05-10 10:02", "cv-late-1", "ag-kt-1"),
    status("nb-s1", "05-10 10:03", "cv-late-1", "RESOLVED", agent_id="ag-kt-1"),
]

# Workspace B: records of its own (ids unlike the simulation's).
WORKSPACE_B = [
    channel("wb-ch", "ch-b"),
    agent("wb-a1", "ag-b-1", "Bea"),
    conversation("wb-c1", "cv-b-1", "ch-b", "ct-b-1", "05-12 09:00"),
    status("wb-s0", "05-12 09:00", "cv-b-1", "NEW"),
    inbound("wb-i1", "05-12 09:00:05", "cv-b-1"),
    lock("wb-l1", "05-12 09:01", "cv-b-1", "ag-b-1"),
    reply("wb-r1", "05-12 09:02", "cv-b-1", "ag-b-1"),
    status("wb-s1", "05-12 09:03", "cv-b-1", "RESOLVED", agent_id="ag-b-1"),
]


def _ingest(con: Connection, path: Path, records: list[dict], workspace: str = WS) -> None:
    ingest_files(con, [str(write_ndjson(path, records))], workspace=workspace)


def _copy(db: Path, folder: Path) -> Path:
    """A copy of a closed store (its file, and its write-ahead log if any)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / db.name
    shutil.copyfile(db, out)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, out.with_name(out.name + ".wal"))
    return out


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated workspace and the open sessions, in two batches; no kept facts."""
    from cxport.simulate import simulate

    folder = tmp_path_factory.mktemp("kept-base")
    source = folder / "sim.ndjson"
    simulate(source, seed=7, conversations=400, start=dt.date(2024, 5, 1), days=14)
    db = folder / "store.duckdb"
    con = open_store(db)
    try:
        ingest_files(con, [str(source)], workspace=WS)
        _ingest(con, folder / "open.ndjson", OPEN_SESSIONS)
        assert con.execute("SELECT count(*) FROM kept_facts").fetchone() == (0,)
    finally:
        con.close()
    return db


@pytest.fixture(scope="module")
def kept_db(base_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of `base_db` with the workspace's kept facts built (tests only read it)."""
    db = _copy(base_db, tmp_path_factory.mktemp("kept-built"))
    con = open_store(db)
    try:
        found, built = kept.refresh(con, WS)
        assert found is not None and built
    finally:
        con.close()
    return db


@pytest.fixture
def con(kept_db: Path) -> Iterator[Connection]:
    c = open_store(kept_db)
    yield c
    c.close()


@pytest.fixture
def copy_db(base_db: Path, tmp_path: Path) -> Path:
    """A copy of `base_db` the test may change."""
    return _copy(base_db, tmp_path / "store")


@pytest.fixture
def copy_con(copy_db: Path) -> Iterator[Connection]:
    """The copy of `base_db`, open for writing."""
    c = open_store(copy_db)
    yield c
    c.close()


def _request(export: str, as_of: dt.datetime, **kw: object) -> ExportRequest:
    return ExportRequest(export=export, date_from=FROM, date_to=TO, as_of=as_of, **kw)  # type: ignore[arg-type]


def _run(
    con: Connection, request: ExportRequest, out: Path, use_kept: bool = True
) -> tuple[ExportResult, bytes]:
    result = run_export(con, request, out, use_kept=use_kept)
    return result, out.read_bytes()


def _kept_and_computed(con: Connection, request: ExportRequest, folder: Path) -> bytes:
    """The file from kept facts, after checking it equals the one computed at request time."""
    folder.mkdir(parents=True, exist_ok=True)
    zone = request.tz.replace("/", "-")
    tag = f"{request.export}-{zone}-{'-'.join(request.channels)}-{request.as_of_utc():%Y%m%d%H%M}"
    from_kept, kept_bytes = _run(con, request, folder / f"kept-{tag}.csv")
    computed, computed_bytes = _run(con, request, folder / f"computed-{tag}.csv", use_kept=False)
    assert from_kept.kept, request
    assert not computed.kept, request
    assert kept_bytes == computed_bytes, request
    assert from_kept.rows == computed.rows
    return kept_bytes


def _horizon(con: Connection) -> dt.datetime:
    row = con.execute("SELECT horizon FROM kept_facts WHERE workspace = ?", [WS]).fetchone()
    assert row is not None
    return row[0]


def _kept_schemas(con: Connection) -> set[str]:
    found = con.execute(
        "SELECT schema_name FROM duckdb_schemas() WHERE schema_name LIKE 'kept\\_%' ESCAPE '\\'"
    ).fetchall()
    return {name for (name,) in found}


def _by_id(csv_bytes: bytes, key: str) -> dict[str, dict[str, str]]:
    return {r[key]: r for r in rows(csv_bytes.decode("utf-8"))}


# --- the same bytes --------------------------------------------------------


def test_the_kept_lock_sessions_include_sessions_open_at_the_horizon(con: Connection) -> None:
    found = kept.current(con, WS, FAR.replace(tzinfo=None))
    assert found is not None
    assert found.horizon == _horizon(con)
    assert found.horizon > PICKED_SINCE
    open_rows = con.execute(
        f"SELECT conversation_id, class, started_at, ended_at FROM {found.schema}.f_lock_session"
        " WHERE end_rule = 'as_of' ORDER BY conversation_id"
    ).fetchall()
    assert open_rows == [
        ("cv-kt-1", "handle", HANDLED_SINCE, found.horizon),
        ("cv-kt-2", "cherry_picking", PICKED_SINCE, found.horizon),
    ]


@pytest.mark.parametrize("export", ALL)
def test_every_export_from_kept_facts_has_the_bytes_computed_at_request_time(
    con: Connection, tmp_path: Path, export: str
) -> None:
    for as_of, tz in ((FAR, "UTC"), (AS_OF_1, "America/Sao_Paulo"), (AS_OF_2, "UTC")):
        _kept_and_computed(con, _request(export, as_of, tz=tz), tmp_path)


@pytest.mark.parametrize(
    "export", ["resolved-conversations", "agent-metrics", "open-conversations"]
)
def test_channel_filtered_exports_from_kept_facts_have_the_computed_bytes(
    con: Connection, tmp_path: Path, export: str
) -> None:
    request = _request(export, AS_OF_1, tz="America/Sao_Paulo", channels=(CHANNEL,))
    filtered = _kept_and_computed(con, request, tmp_path)
    unfiltered = _kept_and_computed(
        con, _request(export, AS_OF_1, tz="America/Sao_Paulo"), tmp_path
    )
    assert filtered != unfiltered  # the filter is not a no-op here
    if export != "agent-metrics":  # its rows are every agent, filtered or not
        assert 1 < len(rows(filtered.decode())) < len(rows(unfiltered.decode()))


def test_open_session_time_grows_with_as_of_in_kept_files(con: Connection, tmp_path: Path) -> None:
    grown = (AS_OF_2 - AS_OF_1).total_seconds()

    def seconds(since: dt.datetime, as_of: dt.datetime) -> int:
        return int((as_of.replace(tzinfo=None) - since).total_seconds())

    first = _kept_and_computed(con, _request("open-conversations", AS_OF_1), tmp_path)
    second = _kept_and_computed(con, _request("open-conversations", AS_OF_2), tmp_path)
    assert first != second
    for data, as_of in ((first, AS_OF_1), (second, AS_OF_2)):
        by_id = _by_id(data, "Conversation ID")
        handled, picked = by_id["cv-kt-1"], by_id["cv-kt-2"]
        assert int(handled["Handle Time (s)"]) == seconds(HANDLED_SINCE, as_of)
        assert (handled["No Reply Time (s)"], handled["Cherry Picking Time (s)"]) == ("0", "0")
        assert int(picked["Cherry Picking Time (s)"]) == seconds(PICKED_SINCE, as_of)
        assert (picked["Handle Time (s)"], picked["No Reply Time (s)"]) == ("0", "0")

    # Agents' lock time in the range runs to `as_of` too (it is inside the range).
    first = _kept_and_computed(con, _request("agent-metrics", AS_OF_1), tmp_path)
    second = _kept_and_computed(con, _request("agent-metrics", AS_OF_2), tmp_path)
    a, b = _by_id(first, "User ID"), _by_id(second, "User ID")
    assert int(b["ag-kt-1"]["Handle Time (s)"]) - int(a["ag-kt-1"]["Handle Time (s)"]) == grown
    picked_a = int(a["ag-kt-2"]["Cherry Picking Time (s)"])
    assert int(b["ag-kt-2"]["Cherry Picking Time (s)"]) - picked_a == grown
    assert picked_a == seconds(PICKED_SINCE, AS_OF_1)

    # Its available time and the part of it with a session open, to `as_of`.
    for by_user, as_of in ((a, AS_OF_1), (b, AS_OF_2)):
        one = by_user["ag-kt-1"]
        available, utilized = seconds(AVAILABLE_SINCE, as_of), seconds(HANDLED_SINCE, as_of)
        assert int(one["Available Time (s)"]) == available
        percent = Decimal(utilized * 100) / Decimal(available)
        assert one["Utilization (%)"] == str(percent.quantize(Decimal("0.01"), ROUND_HALF_UP))


def test_as_of_at_the_horizon_reads_kept_facts_and_a_millisecond_before_does_not(
    con: Connection, tmp_path: Path
) -> None:
    horizon = _horizon(con)
    at = horizon.replace(tzinfo=UTC)
    for export in ("open-conversations", "agent-metrics", "response-times"):
        _kept_and_computed(con, _request(export, at), tmp_path)
    just_before = horizon - dt.timedelta(milliseconds=1)
    assert kept.current(con, WS, just_before) is None
    request = _request("open-conversations", just_before.replace(tzinfo=UTC))
    result, _ = _run(con, request, tmp_path / "before.csv")
    assert not result.kept


# --- when kept facts are read ----------------------------------------------


def test_as_of_before_the_horizon_computes_every_fact_at_request_time(
    con: Connection, tmp_path: Path
) -> None:
    assert kept.current(con, WS, BEFORE.replace(tzinfo=None)) is None
    for export in ("resolved-conversations", "open-conversations", "messages", "agent-metrics"):
        request = _request(export, BEFORE)
        result, data = _run(con, request, tmp_path / f"before-{export}.csv")
        computed, computed_data = _run(con, request, tmp_path / f"c-{export}.csv", use_kept=False)
        assert not result.kept and not computed.kept
        assert data == computed_data
        after = _kept_and_computed(con, _request(export, AS_OF_1), tmp_path)
        assert data != after, export  # records after BEFORE show only in the later snapshot
        if export in ("resolved-conversations", "messages"):
            assert len(rows(data.decode())) < len(rows(after.decode()))


def test_a_new_batch_makes_kept_facts_stale_until_refreshed(
    copy_con: Connection, tmp_path: Path
) -> None:
    con = copy_con
    found, built = kept.refresh(con, WS)
    assert found is not None and built
    request = _request("resolved-conversations", AS_OF_1)
    _, before = _run(con, request, tmp_path / "before.csv")
    assert b"cv-late-1" not in before

    _ingest(con, tmp_path / "late.ndjson", LATE_BATCH)
    assert _horizon(con) == found.horizon  # the batch is older than the horizon
    assert kept.current(con, WS, AS_OF_1.replace(tzinfo=None)) is None
    result, stale = _run(con, request, tmp_path / "stale.csv")
    assert not result.kept
    assert "cv-late-1" in _by_id(stale, "Conversation ID")

    again, built = kept.refresh(con, WS)
    assert built and again is not None and again.schema == found.schema  # refreshed in place
    assert _kept_and_computed(con, request, tmp_path) == stale
    assert kept.refresh(con, WS) == (again, False)


def test_each_workspace_has_kept_facts_of_its_own(copy_con: Connection, tmp_path: Path) -> None:
    con = copy_con
    a, _ = kept.refresh(con, WS)
    assert a is not None
    request_a = _request("resolved-conversations", FAR)
    a_before = _kept_and_computed(con, request_a, tmp_path / "a0")

    _ingest(con, tmp_path / "b.ndjson", WORKSPACE_B, workspace="b")
    assert kept.current(con, "b", FAR.replace(tzinfo=None)) is None
    assert kept.current(con, WS, FAR.replace(tzinfo=None)) == a  # B's batch is not A's
    b, built = kept.refresh(con, "b")
    assert built and b is not None and b.schema != a.schema
    recorded = dict(con.execute("SELECT workspace, schema_name FROM kept_facts").fetchall())
    assert recorded == {WS: a.schema, "b": b.schema}
    assert _kept_schemas(con) == {a.schema, b.schema}
    assert kept.current(con, WS, FAR.replace(tzinfo=None)) == a

    assert _kept_and_computed(con, request_a, tmp_path / "a1") == a_before
    for export in ("resolved-conversations", "agent-metrics", "messages"):
        data = _kept_and_computed(con, _request(export, FAR, workspace="b"), tmp_path / "b")
        if export != "agent-metrics":
            assert b"cv-b-1" in data
    b_conversations = _by_id(
        _kept_and_computed(
            con, _request("resolved-conversations", FAR, workspace="b"), tmp_path / "b2"
        ),
        "Conversation ID",
    )
    assert set(b_conversations) == {"cv-b-1"}
    a_ids = {
        cid
        for (cid,) in con.execute(
            "SELECT DISTINCT conversation_id FROM r_conversation WHERE workspace = ?", [WS]
        ).fetchall()
    }
    assert len(a_ids) > 300 and not a_ids & set(b_conversations)
    assert b"cv-b-1" not in a_before


def test_changed_definitions_rebuild_and_drop_the_old_schema(
    copy_con: Connection, tmp_path: Path
) -> None:
    con = copy_con
    old, _ = kept.refresh(con, WS)
    assert old is not None
    con.execute("UPDATE kept_facts SET definitions = 'old'")
    assert kept.current(con, WS, FAR.replace(tzinfo=None)) is None
    result, _ = _run(con, _request("open-conversations", FAR), tmp_path / "old.csv")
    assert not result.kept

    new, built = kept.refresh(con, WS)
    assert built and new is not None and new.schema != old.schema
    assert _kept_schemas(con) == {new.schema}
    (definitions,) = con.execute("SELECT definitions FROM kept_facts").fetchone() or ("",)
    assert definitions == kept.definitions_hash()
    assert kept.current(con, WS, FAR.replace(tzinfo=None)) == new
    _kept_and_computed(con, _request("open-conversations", FAR), tmp_path)


def test_a_build_left_behind_by_a_dead_process_is_dropped_by_the_next(copy_con: Connection) -> None:
    con = copy_con
    # What a build killed before its swap leaves: a schema nothing records.
    con.execute("CREATE SCHEMA kept_999")
    con.execute("CREATE TABLE kept_999.f_conversation_summary AS SELECT 1 AS x")
    found, built = kept.refresh(con, WS, force=True)
    assert built and found is not None
    assert _kept_schemas(con) == {found.schema}


def test_run_exports_builds_stale_kept_facts_first_with_the_same_bytes(
    copy_con: Connection, tmp_path: Path
) -> None:
    con = copy_con
    assert kept.writable(con)
    assert kept.current(con, WS, AS_OF_1.replace(tzinfo=None)) is None
    jobs = [
        (_request(name, AS_OF_1, tz="America/Sao_Paulo"), tmp_path / f"group-{name}.csv")
        for name in ALL
    ]
    results = run_exports(con, jobs)
    assert kept.current(con, WS, AS_OF_1.replace(tzinfo=None)) is not None
    assert [r.export for r in results] == ALL
    assert all(r.kept for r in results)
    for request, out in jobs:
        computed, data = _run(con, request, tmp_path / f"one-{request.export}.csv", False)
        assert not computed.kept
        assert out.read_bytes() == data, request.export


def test_run_exports_before_the_horizon_builds_nothing(
    copy_con: Connection, tmp_path: Path
) -> None:
    con = copy_con
    jobs = [(_request(name, BEFORE), tmp_path / f"{name}.csv") for name in ALL[:3]]
    results = run_exports(con, jobs)
    assert not any(r.kept for r in results)
    assert con.execute("SELECT count(*) FROM kept_facts").fetchone() == (0,)
    assert _kept_schemas(con) == set()


def test_a_read_only_store_with_stale_kept_facts_exports_without_building(
    copy_db: Path, tmp_path: Path
) -> None:
    con = open_store(copy_db)
    try:
        found, _ = kept.refresh(con, WS)
        assert found is not None
        _ingest(con, tmp_path / "late.ndjson", LATE_BATCH)
        recorded = con.execute("SELECT * FROM kept_facts").fetchall()
    finally:
        con.close()

    con = open_store(copy_db, read_only=True)
    try:
        assert not kept.writable(con)
        assert kept.current(con, WS, AS_OF_1.replace(tzinfo=None)) is None
        jobs = [(_request(name, AS_OF_1), tmp_path / f"ro-{name}.csv") for name in ALL]
        results = run_exports(con, jobs)
        assert not any(r.kept for r in results)
        assert con.execute("SELECT * FROM kept_facts").fetchall() == recorded
        assert _kept_schemas(con) == {found.schema}
        for request, out in jobs:
            _, data = _run(con, request, tmp_path / f"one-{request.export}.csv", False)
            assert out.read_bytes() == data, request.export
        assert b"cv-late-1" in (tmp_path / "ro-resolved-conversations.csv").read_bytes()
    finally:
        con.close()


def test_an_export_defines_only_the_snapshot_views_it_reads() -> None:
    from cxport.exports.defs import BY_NAME
    from cxport.exports.facts import fact_order, snapshot_types, types_read

    presence = BY_NAME["agent-presence"]
    # From kept facts it reads its intervals' copy and the agents' names only.
    assert types_read(fact_order(presence.facts, kept=True), kept=True) == set()
    assert snapshot_types([presence.sql]) == {"agent"}
    # Computed, it reads the presence records.
    assert types_read(fact_order(presence.facts), kept=False) == {"presence"}
    # A scoped view of a message's record reads the scoped messages.
    assert snapshot_types(["SELECT * FROM c_tag_applied JOIN e_tag USING (tag_id)"]) == {
        "tag_applied",
        "tag",
        "message",
    }
    # A fact built in Python may read anything: every view is defined.
    conversations = BY_NAME["resolved-conversations"]
    assert types_read(fact_order(conversations.facts), kept=False) is None


# --- built by shares of the conversations ------------------------------------


def test_facts_built_by_shares_of_the_conversations_hold_the_rows_of_a_whole_build(
    copy_con: Connection,
) -> None:
    horizon = kept.workspace_horizon(copy_con, WS)
    assert horizon is not None
    by_conversation = [k.name for k in kept.kept_facts() if k.fact.by_conversation]
    assert "f_conversation" in by_conversation
    built = {}
    for shares in (1, 3, 7):
        cur = copy_con.cursor()
        try:
            built[shares] = kept.build_schema(copy_con, cur, WS, horizon, shares=shares)
            # After each fact built by shares, the scoped views are whole again;
            # and the facts not stored, temporary tables, are let go of.
            (n,) = cur.execute(
                "SELECT count(DISTINCT conversation_id) FROM c_message"
            ).fetchone() or (0,)
            assert n == 402, shares
            left = cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE 'f\\_%' ESCAPE '\\'"
            ).fetchall()
            assert left == [], (shares, left)  # the request's tables (`req`…) stay
        finally:
            cur.close()
    # f_conversation is not stored: the facts read from it are.
    for name in ("f_conversation_summary", "f_first_resolution"):
        (n,) = copy_con.execute(f"SELECT count(*) FROM {built[1]}.{name}").fetchone() or (0,)
        assert n > 100, name
    assert stored_differences(copy_con, built[1], built[3]) == {}
    assert stored_differences(copy_con, built[1], built[7]) == {}


def test_a_stored_fact_built_by_shares_is_stored_whole_and_in_its_order(
    copy_con: Connection,
) -> None:
    """A stored fact built by shares: its shares' rows sorted together into its
    table in the schema, as a whole build stores them (the episodes here)."""
    import dataclasses

    from cxport.exports.keep import KEEP

    horizon = kept.workspace_horizon(copy_con, WS)
    assert horizon is not None
    keep = KEEP["f_response_episode"]
    fact = dataclasses.replace(keep.fact, by_conversation=True)
    cur = copy_con.cursor()
    try:
        schema = kept.build_schema(copy_con, cur, WS, horizon, shares=1)
        entity = KEEP["f_conversation_entity"].fact  # let go of by the build: again
        cur.execute(f"CREATE TEMP TABLE {entity.name} AS {entity.sql}")
        kept._create_by_shares(cur, f"{schema}.shared", fact, keep.order, 4, schema)
        whole = cur.execute(f"SELECT * FROM {schema}.f_response_episode").fetchall()
        shared = cur.execute(f"SELECT * FROM {schema}.shared").fetchall()
        assert len(whole) > 100 and shared == whole  # the same rows, in the same order
        (n,) = cur.execute("SELECT count(DISTINCT conversation_id) FROM c_message").fetchone() or (
            0,
        )
        assert n == 402
        names = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert "f_conversation_entity" in names and "kb_f_conversation_entity" not in names
    finally:
        cur.close()


def test_the_shares_follow_the_conversations_and_the_memory_limit() -> None:
    gb = 10**9
    assert kept.shares_for(0, 3 * gb) == 1
    assert kept.shares_for(400_000, 3 * gb) == 1
    assert kept.shares_for(1_000_000, 3 * gb) == 3
    assert kept.shares_for(3_000_000, 3 * gb) == 7
    assert kept.shares_for(1_000_000, 6 * gb) == 2
    assert kept.shares_for(10**9, 3 * gb) == kept.MOST_SHARES
    assert kept.shares_for(1_000_000, 128 * 10**6) == kept.MOST_SHARES


def test_a_share_narrows_the_scoped_views_and_the_keyed_requirements_to_its_conversations(
    copy_con: Connection,
) -> None:
    horizon = kept.workspace_horizon(copy_con, WS)
    assert horizon is not None
    cur = copy_con.cursor()
    try:
        kept._define_snapshot(copy_con, cur, WS, horizon)
        define_scope(cur, None)
        cur.execute(
            "CREATE TEMP TABLE kb_entity AS SELECT DISTINCT conversation_id FROM s_conversation"
        )
        tables = {"f_conversation_entity": "kb_entity"}

        def ids(view: str) -> set[str]:
            return {
                r[0] for r in cur.execute(f"SELECT DISTINCT conversation_id FROM {view}").fetchall()
            }

        def tagged() -> set[str]:  # the conversations of the tagged messages in view
            return {r[0] for r in cur.execute(
                "SELECT DISTINCT m.conversation_id FROM c_tag_applied AS t"
                " JOIN s_message AS m USING (message_id)").fetchall()}  # fmt: skip

        every, every_tagged = ids("c_message"), tagged()
        seen: list[set[str]] = []
        for share in range(3):
            kept._narrow(cur, tables, f"hash(conversation_id) % 3 = {share}")
            mine = ids("c_message")
            assert mine and mine < every
            assert ids("c_status_change") <= mine | ids("c_conversation")
            assert ids("f_conversation_entity") <= ids("c_conversation")
            assert tagged() == every_tagged & (mine | ids("c_conversation"))
            seen.append(mine)
        assert set().union(*seen) == every and sum(map(len, seen)) == len(every)
        kept._narrow(cur, tables, None)
        assert ids("c_message") == every and tagged() == every_tagged
    finally:
        cur.close()
