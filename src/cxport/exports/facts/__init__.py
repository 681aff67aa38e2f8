"""Derived facts: each named once, as data (a query, or rows computed in Python).

A fact is a table (or view) `f_<name>` built from the snapshot views, the
request tables and other facts. Exports list the facts they read; the
planner (`plan.py`) orders those and what they require, each once, and
decides which are read from the store's kept copies (`kept.py`); an engine
(`cxport.engines`) builds them. What a fact reads is its SQL's parse
(`reads.py`). Fact modules register theirs in `modules.ALL_FACTS`.

Facts about conversations read the `c_<type>` views rather than `s_<type>`:
the visible records of the conversations in the export's *scope* (see
`define_scope`), so that an export about a few conversations (the open ones,
the ones first resolved in its range) computes their facts only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from cxport.exports.reads import tables_read
from cxport.records import RECORD_TYPES


@dataclass(frozen=True)
class FactContext:
    """What a fact may know of the request besides its tables."""

    start: dt.datetime  # naive UTC
    end: dt.datetime  # naive UTC, exclusive
    as_of: dt.datetime  # naive UTC


# A fact built in Python: its rows (Arrow) from the rows of its `inputs`.
Rows = Callable[[Mapping[str, pa.Table], FactContext], pa.Table]


@dataclass(frozen=True)
class Fact:
    """A derived fact: what it is, never where it is kept (`kept.py` and the
    planner, `plan.py`, decide that)."""

    name: str  # the table's name, `f_…`
    requires: tuple[str, ...] = ()
    sql: str | None = None  # a SELECT; or, built in Python:
    # (name, SELECT) pairs any engine runs, whose rows `rows` turns into the fact's.
    inputs: tuple[tuple[str, str], ...] = ()
    rows: Rows | None = None
    materialize: bool = True  # TEMP TABLE (computed once) rather than VIEW
    # Its rows of a conversation come from that conversation's records alone
    # (the `c_*` views) and from its requirements' rows of that conversation
    # (those with a `conversation_id`; the others, lookups, are read whole):
    # so it can be built a share of the conversations at a time
    # (`kept.build_schema`), each share's rows those of the whole.
    by_conversation: bool = False

    def texts(self) -> tuple[str, ...]:
        """The SQL the fact runs: its query, or its inputs' queries."""
        return (self.sql,) if self.sql is not None else tuple(q for _, q in self.inputs)

    @property
    def reads(self) -> frozenset[str]:
        """The tables and views the fact reads (their parse, `reads.py`)."""
        return frozenset().union(*(tables_read(q) for q in self.texts()))

    @property
    def reads_scope(self) -> bool:
        """Whether the fact reads the scoped `c_*` views."""
        return any(scoped_type(t) is not None for t in self.reads)


# Record types scoped by their conversation, and by their message's conversation.
BY_CONVERSATION = (
    "conversation",
    "message",
    "status_change",
    "lock",
    "unlock",
    "topic_applied",
    "topic_removed",
    "csat",
)
BY_MESSAGE = ("message_deleted", "tag_applied", "tag_removed")


def define_request(con: duckdb.DuckDBPyConnection, *args: Any, **kwargs: Any) -> None:
    """Define the request tables on `con`: the steps `plan.request_steps(*args, **kwargs)`
    gives (for the kept facts' build and for tests; exports run a plan)."""
    from cxport.engines.duckdb import define
    from cxport.exports.plan import request_steps

    for step in request_steps(*args, **kwargs):
        define(con, step)


def define_scope(
    con: duckdb.DuckDBPyConnection,
    scope: str | None = None,
    types: Collection[str] | None = None,
    where: str | None = None,
) -> None:
    """Define the `c_<type>` views on `con` (`plan.scope_steps` says what they hold)."""
    from cxport.engines.duckdb import define
    from cxport.exports.plan import scope_steps

    for step in scope_steps(scope, types, where):
        define(con, step)


_RECORD_TYPE_NAMES = frozenset(rt.name for rt in RECORD_TYPES)


def snapshot_type(table: str) -> str | None:
    """The record type of a snapshot view (`s_*`, `e_*`, `c_*`), else None."""
    prefix, _, name = table.partition("_")
    return name if prefix in ("s", "e", "c") and name in _RECORD_TYPE_NAMES else None


def scoped_type(table: str) -> str | None:
    """The record type of a scoped view (`c_*`), else None."""
    return snapshot_type(table) if table.startswith("c_") else None


def snapshot_types(queries: Iterable[str | None]) -> set[str]:
    """The record types whose snapshot views (`s_*`, `e_*`, `c_*`) `queries` read.

    A scoped `c_*` view of a message's record reads `c_message`: with any of
    them, messages are included.
    """
    tables = {t for q in queries if q for t in tables_read(q)}
    found = {n for n in map(snapshot_type, tables) if n is not None}
    if found & set(BY_MESSAGE):
        found.add("message")
    return found


def types_read(facts: Iterable[Fact], kept: bool) -> set[str] | None:
    """The record types the facts read (None: a fact built in Python, whose
    inputs are every view's to read); a kept fact read from its copy reads none."""
    stored = kept_names() if kept else frozenset()
    queries: list[str | None] = []
    for fact in facts:
        if fact.name in stored:
            continue  # its copy and the request tables (`at_as_of`)
        if fact.rows is not None:
            return None
        queries.append(fact.sql)
    return snapshot_types(queries)


def kept_names() -> frozenset[str]:
    """The facts the store keeps (`keep.KEEP`)."""
    from cxport.exports.keep import KEEP

    return frozenset(KEEP)


def _registry() -> dict[str, Fact]:
    from cxport.exports.facts import modules

    return {f.name: f for f in modules.ALL_FACTS}


def fact_order(names: Iterable[str], kept: bool | Collection[str] = False) -> list[Fact]:
    """The named facts and their requirements, each once, requirements first.

    Facts named in `kept` (True: every kept fact) are read from their copies:
    their requirements are not needed (unless something else requires them).
    """
    registry = _registry()
    copied = kept_names() if kept is True else frozenset(kept or ())
    order: list[Fact] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if any(f.name == name for f in order):
            return
        if name in path:
            raise ValueError(f"derived facts form a cycle: {' -> '.join((*path, name))}")
        fact = registry[name]
        if name not in copied:
            for dep in fact.requires:
                visit(dep, (*path, name))
        order.append(fact)

    for name in names:
        visit(name, ())
    return order


def define_facts(
    con: duckdb.DuckDBPyConnection, names: Iterable[str], ctx: FactContext
) -> list[str]:
    """Build the named facts and their requirements on `con`, computed; returns the order built."""
    from cxport.engines.duckdb import define
    from cxport.exports.plan import fact_step

    order = fact_order(names)
    for fact in order:
        define(con, fact_step(fact), ctx)
    return [f.name for f in order]
