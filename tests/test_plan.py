"""The planner (`exports/plan.py`): a request gives a plan, with no store at hand.

Whether the plans run to the same files is the rest of the suite's to say
(golden files, kept against computed); here, what the plan holds: its
steps in order, kept copies against computed facts, and what a step reads
(the parse of its SQL, `exports/reads.py`).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from cxport.exports.defs import BY_NAME
from cxport.exports.facts import FactContext
from cxport.exports.facts.business_hours import (
    BUSINESS_CLOCK,
    BUSINESS_INTERVAL,
)
from cxport.exports.facts.modules import ALL_FACTS
from cxport.exports.keep import KEEP
from cxport.exports.kept import Kept
from cxport.exports.plan import Kind, Plan, Role, plan, plan_group, stages
from cxport.exports.reads import digest, parse_reads, program_texts, tables_read
from cxport.exports.reads_known import KNOWN
from cxport.exports.request import ExportRequest
from cxport.records import RECORD_TYPES

AS_OF = dt.datetime(2024, 7, 1, 12, 0)
KEPT = Kept("kept_7", dt.datetime(2024, 6, 30), 3)


def _request(export: str, **options: object) -> ExportRequest:
    return ExportRequest(
        export=export,
        date_from=dt.date(2024, 6, 1),
        date_to=dt.date(2024, 6, 30),
        tz="America/Sao_Paulo",
        **options,  # type: ignore[arg-type]
    )


def test_a_request_gives_its_steps_in_order() -> None:
    p = plan(_request("agent-presence", channels=("wa",)), AS_OF, None, "out.csv")
    assert [(s.name, s.kind, s.role) for s in p.steps] == [
        ("s_agent", Kind.VIEW, Role.SNAPSHOT),
        ("e_agent", Kind.VIEW, Role.SNAPSHOT),
        ("s_presence", Kind.VIEW, Role.SNAPSHOT),
        ("req", Kind.TABLE, Role.REQUEST),
        ("req_channel", Kind.TABLE, Role.REQUEST),
        ("f_presence_interval", Kind.VIEW, Role.FACT),
    ]
    assert "TIMESTAMP '2024-06-01 03:00:00'" in p.step("req").sql  # the range, in UTC
    assert p.step("req_channel").sql.endswith("(VALUES ('wa')) AS v(channel_id)")
    assert p.prepared == 5
    (out,) = p.outputs
    assert out.columns == BY_NAME["agent-presence"].columns
    assert (out.export, out.target, out.spec.format) == ("agent-presence", "out.csv", "csv")
    assert p.helpers.zone.key == "America/Sao_Paulo"
    assert not p.kept


def test_kept_copies_replace_facts_and_their_requirements() -> None:
    computed = plan(_request("resolved-conversations"), AS_OF, None)
    kept = plan(_request("resolved-conversations"), AS_OF, KEPT)
    facts = {s.name: s for s in computed.steps if s.role is Role.FACT}
    copies = {s.name: s for s in kept.steps if s.role is Role.KEPT}
    # Computed: the summary and all it requires, over the export's scope.
    assert {"f_conversation_summary", "f_lock_session", "f_business_clock"} <= set(facts)
    assert facts["f_business_clock"].kind is Kind.PYTHON
    assert "scope_conversation" in {s.name for s in computed.steps}
    # Kept: the summary's copy alone, and no scope (the copy covers every conversation).
    assert set(copies) == {"f_conversation_summary"}
    assert not any(s.role in (Role.FACT, Role.SCOPE) for s in kept.steps)
    assert copies["f_conversation_summary"].reads == {"kept_7.f_conversation_summary"}
    assert kept.kept and not computed.kept


def test_a_copy_is_read_at_the_requests_as_of() -> None:
    p = plan(_request("agent-presence"), AS_OF, KEPT)
    step = p.step("f_presence_interval")
    assert step.role is Role.KEPT
    assert step.reads == {"kept_7.f_presence_interval", "req"}
    # Nothing reads the presence records any more: their views are not defined.
    assert [s.name for s in p.steps if s.role is Role.SNAPSHOT] == ["s_agent", "e_agent"]


def test_a_version_before_later_batches_reads_the_records_of_its_batches() -> None:
    """Kept facts read while later batches are stored: the snapshot views take the
    records of the batches those facts saw, and nothing else changes."""
    current = plan(_request("resolved-conversations"), AS_OF, KEPT)
    before = plan(_request("resolved-conversations"), AS_OF, KEPT, through_batch=KEPT.batch_id)
    views = [s for s in before.steps if s.role is Role.SNAPSHOT]
    assert views and all(s.sql.endswith(" AND batch_id <= 3") for s in views if s.name[0] == "s")
    assert not any("batch_id" in s.sql for s in current.steps)
    assert [s.name for s in before.steps] == [s.name for s in current.steps]


def test_a_kept_fact_is_computed_without_kept_facts() -> None:
    p = plan(_request("agent-presence"), AS_OF, None)
    assert p.step("f_presence_interval").sql == KEEP["f_presence_interval"].fact.sql


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_export_plans_each_step_after_what_it_reads(name: str) -> None:
    for kept in (None, KEPT):
        p = plan(_request(name), AS_OF, kept)
        defined: set[str] = set()
        for step in p.steps:
            missing = {t for t in step.reads if "." not in t} - defined
            assert not missing - _CANONICAL, (step.name, missing)
            defined.add(step.name)
        for out in p.outputs:
            assert tables_read(out.sql) <= defined, out.export


_CANONICAL = {rt.table for rt in RECORD_TYPES}  # read by the snapshot views


def test_reads_come_from_the_parse() -> None:
    sql = """
    WITH a AS (SELECT * FROM s_message), b AS (SELECT * FROM a JOIN e_agent USING (agent_id))
    SELECT * FROM b
    JOIN (SELECT conversation_id FROM c_lock) AS sub USING (conversation_id)
    WHERE b.message_id IN (SELECT id FROM t_message)
      AND 'FROM s_tag' <> ''  -- a string, not a table: FROM c_csat
    """
    # CTEs (a, b) and the derived table (sub) are not tables; text in a string
    # or a comment is not read.
    assert parse_reads(sql) == {"s_message", "e_agent", "c_lock", "t_message"}
    assert tables_read(sql) == parse_reads(sql)  # not known ahead: parsed when asked


def test_the_reads_known_ahead_are_current() -> None:
    """`make reads` writes them; this fails when a definition changed since."""
    texts = {digest(sql): sql for sql in program_texts()}
    assert set(KNOWN) == set(texts)
    for key, sql in texts.items():
        assert set(KNOWN[key]) == parse_reads(sql), sql[:80]


def test_a_facts_requirements_are_the_facts_it_reads() -> None:
    for fact in ALL_FACTS:
        assert {t for t in fact.reads if t.startswith("f_")} == set(fact.requires), fact.name


def test_python_built_facts_are_arrow_from_their_inputs() -> None:
    """Engine-neutral: their inputs are queries, their rows Arrow."""
    assert dict(BUSINESS_CLOCK.inputs).keys() == {"versions", "span"}
    assert tables_read(dict(BUSINESS_CLOCK.inputs)["span"]) == {"c_message"}
    day = 86_400_000
    versions = pa.table(
        {
            "record_id": ["r1"],
            "at_ms": pa.array([0], pa.int64()),
            "calendar_id": ["cal"],
            "timezone": ["UTC"],
            "weekly": ['{"mon": [["09:00", "17:00"]]}'],
            "holidays": pa.array([[]], pa.list_(pa.string())),
            "channel_ids": pa.array([None], pa.list_(pa.string())),
        }
    )
    span = pa.table(
        {"lo": pa.array([19_905 * day], pa.int64()), "hi": pa.array([19_905 * day + 1], pa.int64())}
    )
    ctx = FactContext(AS_OF, AS_OF, AS_OF)
    assert BUSINESS_INTERVAL.rows is not None and BUSINESS_CLOCK.rows is not None
    intervals = BUSINESS_INTERVAL.rows({"versions": versions, "span": span}, ctx)
    assert intervals.column_names == ["calendar_key", "calendar_id", "start_at", "end_at"]
    # 2024-07-01 (day 19905) is a Monday: 09:00 to 17:00 UTC.
    assert intervals.to_pylist() == [
        {
            "calendar_key": "",
            "calendar_id": "cal",
            "start_at": dt.datetime(2024, 7, 1, 9),
            "end_at": dt.datetime(2024, 7, 1, 17),
        }
    ]
    clock = BUSINESS_CLOCK.rows({"versions": versions, "span": span}, ctx)
    assert clock.schema.field("day").type == pa.date32()
    assert clock.column("cum_ms").to_pylist()[-1] == 8 * 3_600_000


def _all_twelve(kept: Kept | None) -> Plan:
    from cxport.exports.defs import EXPORTS

    shared = _request("resolved-conversations")
    jobs = [(_request(d.name), f"{d.name}.csv") for d in EXPORTS]
    return plan_group(shared, AS_OF, jobs, EXPORTS, None, kept)


@pytest.mark.parametrize("kept", [None, KEPT], ids=["computed", "kept"])
def test_each_file_comes_after_its_facts_which_go_after_their_last_reader(
    kept: Kept | None,
) -> None:
    """`stages`: each fact computed once, before the first file that reads it and
    after what it reads; let go of only when no later file, and no fact still
    to compute, reads it (a view: nor anything under it)."""
    p = _all_twelve(kept)
    facts = p.steps[p.prepared :]
    by_name = {s.name: s for s in facts}
    live = {s.name for s in p.steps[: p.prepared]}
    held_most = defined = 0
    for stage in stages(p):
        for step in stage.steps:
            assert step.name not in live, step.name  # computed once
            missing = {t for t in step.reads if "." not in t} - live - _CANONICAL
            assert not missing, (step.name, missing)
            live.add(step.name)
            defined += 1
        todo = list(tables_read(stage.output.sql))
        while todo:  # what the file reads, through views
            name = todo.pop()
            assert name in live or name in _CANONICAL or "." in name, (stage.output.export, name)
            if name in by_name and by_name[name].kind is Kind.VIEW:
                todo += by_name[name].reads
        held_most = max(
            held_most, sum(by_name[n].kind is not Kind.VIEW for n in live if n in by_name)
        )
        live -= {s.name for s in stage.done}
        for view in (by_name[n] for n in live if n in by_name and by_name[n].kind is Kind.VIEW):
            assert {t for t in view.reads if t in by_name} <= live, view.name  # still readable
    assert defined == len(facts)
    assert not live & set(by_name)  # every fact let go of by the end
    if kept is None:  # the point: the files' facts are never all held at once
        tables = sum(s.kind is not Kind.VIEW for s in facts)
        assert held_most < tables, (held_most, tables)
