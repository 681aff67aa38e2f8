"""Plan, then execute: a request becomes a plan, which an engine runs (`cxport.engines`).

`plan_group` is pure: it reads no store and runs nothing. What it must know
of the store is passed in: the kept facts current for the request (`Kept`:
their schema), found by the engine in the transaction that then runs the
plan (`kept.current`). A plan is data any engine can run:

- `steps`, in order, each named: a view, a table, a table sorted by an
  ORDER BY list, or a table whose rows Python computes (Arrow) from the rows
  of a few queries; each step's SQL is a SELECT in DuckDB's dialect (Spark
  translates it) reading the canonical tables and the steps before it;
- `outputs`: per file, the export's columns, its query and row order, the
  file spec and the target;
- `helpers`: the zone and window the `cx_*` helpers render instants in
  (each engine defines the helpers its own way, `engine.MACROS` for DuckDB).

Reading a fact's kept copy instead of computing it is the planner's choice:
with kept facts current, every fact of `keep.KEEP` is read from its copy
(`Keep.at_as_of` brings it to the request's `as_of`), and the facts only
they required are not planned at all. What a step reads comes from its
SQL's parse (`reads.py`): it decides which snapshot views are defined, and
whether the export's scope is needed at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cxport.exports.catalogue import Column, ExportDef
from cxport.exports.facts import (
    BY_CONVERSATION,
    BY_MESSAGE,
    Fact,
    FactContext,
    Rows,
    fact_order,
    snapshot_types,
    types_read,
)
from cxport.exports.reads import tables_read
from cxport.exports.writer import FileSpec
from cxport.exports.zones import Window, request_window
from cxport.store import Snapshot

if TYPE_CHECKING:
    from cxport.exports.kept import Kept
    from cxport.exports.request import ExportRequest


class Kind(StrEnum):
    """How a step's rows are held."""

    VIEW = "view"  # a query, run where it is read
    TABLE = "table"  # computed once
    SORTED = "sorted"  # computed once, held in `order` (spills, where the engine can)
    PYTHON = "python"  # rows computed in Python (Arrow) from the rows of `inputs`


class Role(StrEnum):
    """What a step is for (an engine may place each kind of data its own way)."""

    SNAPSHOT = "snapshot"  # `s_*`, `e_*`: the canonical tables' rows visible at `as_of`
    REQUEST = "request"  # `req`, `req_channel`
    SCOPE = "scope"  # `scope_conversation`, `c_*`: the conversations an export can show
    FACT = "fact"  # `f_*`, computed
    KEPT = "kept"  # `f_*`, read from the store's kept copy


@dataclass(frozen=True)
class Step:
    name: str
    kind: Kind
    role: Role
    sql: str = ""  # a SELECT (DuckDB's dialect); none for PYTHON
    order: str = ""  # SORTED: an ORDER BY list over what `sql` selects
    inputs: tuple[tuple[str, str], ...] = ()  # PYTHON: (name, SELECT) whose rows `rows` reads
    rows: Rows | None = None  # PYTHON

    def texts(self) -> tuple[str, ...]:
        return (self.sql,) if self.sql else tuple(q for _, q in self.inputs)

    @property
    def reads(self) -> frozenset[str]:
        """The tables and views the step reads (from its SQL's parse)."""
        return frozenset().union(*(tables_read(q) for q in self.texts()))


@dataclass(frozen=True)
class Output:
    """One file: the rows of `sql` sorted by `order`, written as `columns` per `spec`."""

    export: str
    columns: tuple[Column, ...]
    sql: str
    order: str
    spec: FileSpec
    target: str | Path  # `-`: standard output
    request_id: str = ""


@dataclass(frozen=True)
class Helpers:
    """What the `cx_*` helpers need: the zone instants are written in, and the
    window whose offsets are computed ahead (`zones.py`)."""

    zone: ZoneInfo
    window: Window


@dataclass(frozen=True)
class Plan:
    helpers: Helpers
    context: FactContext  # the request, for steps built in Python
    steps: tuple[Step, ...]
    outputs: tuple[Output, ...]
    kept: bool = False  # kept copies are read

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    @property
    def prepared(self) -> int:
        """How many steps come before the facts (snapshot, request, scope)."""
        return sum(s.role in (Role.SNAPSHOT, Role.REQUEST, Role.SCOPE) for s in self.steps)


@dataclass(frozen=True)
class Stage:
    """One file of a plan as an engine runs it: define `steps` (the facts the
    file reads, directly or through other facts, not defined for an earlier
    file), write `output`, then let go of `done` (the facts that no later file
    reads, nor a fact still to compute)."""

    steps: tuple[Step, ...]
    output: Output
    done: tuple[Step, ...]


def stages(plan: Plan) -> list[Stage]:
    """The plan's files in order, each after the facts it reads (`Stage`), the
    steps before the facts (`Plan.prepared`) being defined first and kept to
    the end. A fact is computed just before the first file that reads it and
    let go of after the last file that reads it or a fact still to compute
    from it (a table's rows, once computed, no longer need the facts under
    them; a view's do). So the facts of all the files are never held at once:
    computed by Spark, or by DuckDB before the kept facts' horizon, those of
    the twelve exports at 10 M conversations outgrow the disk
    (docs/performance.md). Facts no file reads are defined with the first
    file's."""
    facts = plan.steps[plan.prepared :]
    by_name = {s.name: s for s in facts}
    defined: set[str] = set()

    def needed(names: Collection[str]) -> set[str]:
        found: set[str] = set()
        todo = [n for n in names if n in by_name]
        while todo:
            name = todo.pop()
            if name in found:
                continue
            found.add(name)
            if name not in defined or by_name[name].kind is Kind.VIEW:
                todo += [n for n in by_name[name].reads if n in by_name]
        return found

    read = needed([n for out in plan.outputs for n in tables_read(out.sql)])
    unread = [s.name for s in facts if s.name not in read]
    needs: list[tuple[Output, list[Step], set[str]]] = []
    for n, out in enumerate(plan.outputs):
        names = needed([*tables_read(out.sql), *(unread if n == 0 else ())])
        due = [s for s in facts if s.name not in defined and s.name in names]
        defined |= names
        needs.append((out, due, names))
    last = {name: n for n, (_, _, names) in enumerate(needs) for name in names}
    return [
        Stage(tuple(due), out, tuple(s for s in facts if last.get(s.name) == n))
        for n, (out, due, _) in enumerate(needs)
    ]


def helpers(request: ExportRequest, as_of: dt.datetime) -> Helpers:
    """The helpers' zone and window for `request` seen at `as_of` (naive UTC)."""
    window = request_window(min(request.start, as_of), max(request.end, as_of))
    return Helpers(request.zoneinfo, window)


def _literal(t: dt.datetime | None) -> str:
    """A naive UTC instant as SQL (an aware one is turned to UTC first)."""
    if t is None:
        return "CAST(NULL AS TIMESTAMP)"
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return f"TIMESTAMP '{t.isoformat(sep=' ')}'"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def request_steps(
    start: dt.datetime | None,
    end: dt.datetime | None,
    as_of: dt.datetime,
    channels: Sequence[str] = (),
    scheduled: bool = False,
    include_content: bool = True,
) -> tuple[Step, Step]:
    """The request tables facts and exports read: `req` (one row: range
    `[start_at, end_at)`, `as_of`, naive UTC; whether a channel filter applies;
    scheduled, include_content) and `req_channel` (the selected channels)."""
    req = (
        f"SELECT {_literal(start)} AS start_at, {_literal(end)} AS end_at,"
        f" {_literal(as_of)} AS as_of, {str(bool(channels)).lower()} AS filtered,"
        f" {str(scheduled).lower()} AS scheduled, {str(include_content).lower()} AS include_content"
    )
    if channels:
        values = ", ".join(f"({_text(c)})" for c in channels)
        selected = f"SELECT channel_id FROM (VALUES {values}) AS v(channel_id)"
    else:
        selected = "SELECT CAST(NULL AS VARCHAR) AS channel_id WHERE false"
    return (
        Step("req", Kind.TABLE, Role.REQUEST, req),
        Step("req_channel", Kind.TABLE, Role.REQUEST, selected),
    )


def scope_steps(
    scope: str | None, types: Collection[str] | None = None, where: str | None = None
) -> list[Step]:
    """The `c_<type>` views: the snapshot's records of the conversations in scope.

    `scope` is a query giving `conversation_id`s (a superset is fine); or
    `where`, a condition on `conversation_id` the records meet (a share of the
    kept facts' build, `kept.py`); without either every conversation is in
    scope and `c_<type>` is `s_<type>`. Only the views of `types` are defined
    (all when None; their `s_*` views must be). A message's records follow
    their message.
    """
    by_conversation = [n for n in BY_CONVERSATION if types is None or n in types]
    by_message = [n for n in BY_MESSAGE if types is None or n in types]
    if scope is None and where is None:
        return [
            Step(f"c_{n}", Kind.VIEW, Role.SCOPE, f"SELECT * FROM s_{n}")
            for n in (*by_conversation, *by_message)
        ]
    out = []
    if scope is not None:
        out.append(Step("scope_conversation", Kind.TABLE, Role.SCOPE, scope))
        where = "conversation_id IN (SELECT conversation_id FROM scope_conversation)"
    out += [
        Step(f"c_{n}", Kind.VIEW, Role.SCOPE, f"SELECT * FROM s_{n} WHERE {where}")
        for n in by_conversation
    ]
    out += [
        Step(f"c_{n}", Kind.VIEW, Role.SCOPE, f"SELECT * FROM s_{n} WHERE message_id IN"
             " (SELECT message_id FROM c_message)")
        for n in by_message
    ]  # fmt: skip
    return out


def prepare_steps(
    request: ExportRequest,
    as_of: dt.datetime,
    scope: str | None,
    types: Collection[str] | None,
    through_batch: int | None = None,
) -> list[Step]:
    """What facts and exports read besides facts: the snapshot views of `types`
    (all when None; of the batches up to `through_batch` when given), the
    request tables and the scope's views."""
    snapshot = Snapshot(request.workspace, as_of, through_batch)
    steps = [Step(name, Kind.VIEW, Role.SNAPSHOT, sql) for name, sql in snapshot.views(types=types)]
    steps += request_steps(request.start, request.end, as_of, request.channels,
                           request.scheduled, request.include_content)  # fmt: skip
    return steps + scope_steps(scope, types)


def fact_step(fact: Fact) -> Step:
    """The step computing `fact`."""
    if fact.rows is not None:
        return Step(fact.name, Kind.PYTHON, Role.FACT, inputs=fact.inputs, rows=fact.rows)
    assert fact.sql is not None, fact.name
    return Step(fact.name, Kind.TABLE if fact.materialize else Kind.VIEW, Role.FACT, fact.sql)


def kept_step(fact: Fact, kept: Kept) -> Step:
    """The step reading `fact` from its kept copy, at the request's `as_of`."""
    from cxport.exports.keep import KEEP, at_as_of_text

    return Step(
        fact.name,
        Kind.VIEW,
        Role.KEPT,
        at_as_of_text(KEEP[fact.name], f"{kept.schema}.{fact.name}"),
    )


def file_spec(request: ExportRequest) -> FileSpec:
    """How `request`'s file is written."""
    return FileSpec(request.format, request.lang, request.bom, request.formula_guard,
                    request.excel, request.delimiter, request.decimal)  # fmt: skip


def plan_group(
    shared: ExportRequest,
    as_of: dt.datetime,
    jobs: Sequence[tuple[ExportRequest, str | Path]],
    definitions: Sequence[ExportDef],
    scope: str | None,
    kept: Kept | None,
    through_batch: int | None = None,
) -> Plan:
    """The plan of exports sharing `shared`'s snapshot and request tables.

    With `kept` (the kept facts current for the request), kept facts are read
    from there, and the scope is computed only if a fact still computed reads
    it: the kept ones cover every conversation. Only the snapshot views some
    step reads are defined (with kept facts, few). With `through_batch`, the
    store is read as its batches up to that one left it (`kept` then being the
    facts kept at that batch, read while later ones are stored).
    """
    names = [f for d in definitions for f in d.facts]
    copied: frozenset[str] = frozenset()
    if kept is not None:
        from cxport.exports.keep import KEEP

        copied = frozenset(KEEP)
    facts = fact_order(names, kept=copied)
    computed = [f for f in facts if f.name not in copied]
    if kept is not None and not any(f.reads_scope for f in computed):
        scope = None
    types = types_read(facts, kept=kept is not None)
    if types is not None:
        types |= snapshot_types([*(d.sql for d in definitions), scope])
    ctx = FactContext(start=shared.start, end=shared.end, as_of=as_of)
    steps = prepare_steps(shared, as_of, scope, types, through_batch)
    for fact in facts:
        steps.append(
            kept_step(fact, kept) if kept is not None and fact.name in copied else fact_step(fact)
        )
    outputs = tuple(
        Output(r.export, d.columns, d.sql, d.order, file_spec(r), target, r.request_id)
        for d, (r, target) in zip(definitions, jobs, strict=True)
    )
    return Plan(helpers(shared, as_of), ctx, tuple(steps), outputs, kept is not None)


def plan(
    request: ExportRequest,
    as_of: dt.datetime,
    kept: Kept | None,
    target: str | Path = "-",
    definitions: Mapping[str, ExportDef] | None = None,
    through_batch: int | None = None,
) -> Plan:
    """The plan of one export (its own scope), written to `target`."""
    from cxport.exports.defs import BY_NAME

    definition = (definitions or BY_NAME)[request.export]
    return plan_group(request, as_of, [(request, target)], [definition], definition.scope, kept,
                      through_batch)  # fmt: skip
