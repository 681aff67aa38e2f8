"""Derived facts: each named once, defined on a connection on demand.

A fact is a temporary table (or view) `f_<name>` built from the snapshot
views, the request tables and other facts. Exports list the facts they read;
`define_facts` builds those and what they require, each once.
Fact modules register theirs in `ALL_FACTS` below.

Facts about conversations read the `c_<type>` views rather than `s_<type>`:
the visible records of the conversations in the export's *scope* (see
`define_scope`), so that an export about a few conversations (the open ones,
the ones first resolved in its range) computes their facts only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from cxport.records import RECORD_TYPES

if TYPE_CHECKING:
    from cxport.exports.kept import Kept


@dataclass(frozen=True)
class FactContext:
    """What a fact may know of the request besides its tables."""

    start: dt.datetime  # naive UTC
    end: dt.datetime  # naive UTC, exclusive
    as_of: dt.datetime  # naive UTC


@dataclass(frozen=True)
class Fact:
    name: str  # the table's name, `f_…`
    requires: tuple[str, ...] = ()
    sql: str | None = None  # a SELECT; or:
    build: Callable[[duckdb.DuckDBPyConnection, FactContext], None] | None = None
    materialize: bool = True  # TEMP TABLE (computed once) rather than VIEW
    # Kept in the store (`cxport.exports.kept`): the fact reads no request
    # table but `req.as_of`, and past the workspace's last record no row of it
    # changes with `as_of`, except as `at_as_of` says: a SELECT over `{kept}`
    # (the kept rows) giving the fact at the request's `as_of` (None: as kept).
    keep: bool = False
    at_as_of: str | None = None
    # The kept copy's rows are stored in this order (an ORDER BY list): the one
    # its export sorts by, which then sorts rows already in order, much faster.
    kept_order: str | None = None
    # Refreshed by what a batch touched (`kept_plan.py`): which kept rows a
    # batch's records may change, as a condition on the fact's columns over the
    # touched keys (`TOUCHED_*`). The rows meeting it are computed again (the
    # same SQL, over the touched conversations' records: the `c_*` views) and
    # replace the kept ones. None: a fact built in Python, built whole each time.
    # A tuple: alternatives (any of them), each a conjunction that one semi-join
    # runs; the refresh deletes the kept rows of each by itself (a CASE or an
    # OR over two keys scans and tests every kept row instead).
    touched: str | tuple[str, ...] | None = None
    # Requirements this fact reads beyond their touched rows: every row meeting
    # this fact's own `touched` condition (on the requirement's columns: the
    # fact's touched rows depend only on those), kept or new. They must be stored.
    reads_whole: tuple[str, ...] = ()

    @property
    def touched_sql(self) -> str | None:
        """`touched` as one condition (alternatives joined by OR)."""
        if self.touched is None or isinstance(self.touched, str):
            return self.touched
        return " OR ".join(f"({c})" for c in self.touched)

    @property
    def touched_any(self) -> tuple[str, ...]:
        """`touched` as alternatives (one when it is one condition)."""
        if self.touched is None:
            return ()
        return (self.touched,) if isinstance(self.touched, str) else self.touched

    @property
    def reads_scope(self) -> bool:
        """Whether the fact reads the `c_*` views (a Python build is assumed to)."""
        return (
            self.build is not None or re.search(r"\b(FROM|JOIN)\s+c_", self.sql or "") is not None
        )


# What a batch touched (`kept_plan.py`): tables of ids (`id`), and the
# conditions on a kept fact's rows naming them.
TOUCHED_CONVERSATION = "conversation_id IN (SELECT id FROM t_conversation)"
TOUCHED_MESSAGE = "message_id IN (SELECT id FROM t_message)"
TOUCHED_CONTACT = "contact_profile_id IN (SELECT id FROM t_contact)"
TOUCHED_AGENT = "agent_id IN (SELECT id FROM t_agent)"
# The touched conversations and every conversation of a touched contact (whose
# message span reads them all): their entities and messages are read.
TOUCHED_CONTACT_CONVERSATION = "conversation_id IN (SELECT id FROM t_contact_conversation)"


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


def define_request(
    con: duckdb.DuckDBPyConnection,
    start: dt.datetime | None,
    end: dt.datetime | None,
    as_of: dt.datetime,
    channels: Sequence[str] = (),
    scheduled: bool = False,
    include_content: bool = True,
) -> None:
    """Define the request tables facts and exports read: `req` (one row: range
    `[start_at, end_at)`, `as_of`, naive UTC; whether a channel filter applies;
    scheduled, include_content) and `req_channel` (the selected channels)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE req AS SELECT ?::TIMESTAMP AS start_at, ?::TIMESTAMP AS end_at,"
        " ?::TIMESTAMP AS as_of, ?::BOOLEAN AS filtered, ?::BOOLEAN AS scheduled,"
        " ?::BOOLEAN AS include_content",
        [start, end, as_of, bool(channels), scheduled, include_content],
    )
    con.execute("CREATE OR REPLACE TEMP TABLE req_channel (channel_id VARCHAR)")
    if channels:
        con.executemany("INSERT INTO req_channel VALUES (?)", [[c] for c in channels])


def define_scope(
    con: duckdb.DuckDBPyConnection, scope: str | None = None, types: Collection[str] | None = None
) -> None:
    """Define the `c_<type>` views: the snapshot's records of the conversations in scope.

    `scope` is a query giving `conversation_id`s (a superset is fine); without
    one every conversation is in scope and `c_<type>` is `s_<type>`. Only the
    views of `types` are defined (all when None; their `s_*` views must be).
    """
    by_conversation = [n for n in BY_CONVERSATION if types is None or n in types]
    by_message = [n for n in BY_MESSAGE if types is None or n in types]
    if scope is None:
        for name in (*by_conversation, *by_message):
            con.execute(f"CREATE OR REPLACE TEMP VIEW c_{name} AS SELECT * FROM s_{name}")
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE scope_conversation AS {scope}")
    for name in by_conversation:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW c_{name} AS SELECT * FROM s_{name}"
            " WHERE conversation_id IN (SELECT conversation_id FROM scope_conversation)"
        )
    for name in by_message:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW c_{name} AS SELECT * FROM s_{name}"
            " WHERE message_id IN (SELECT message_id FROM c_message)"
        )


_SNAPSHOT_VIEW = re.compile(r"\b[sec]_([a-z_]+)\b")
_RECORD_TYPE_NAMES = frozenset(rt.name for rt in RECORD_TYPES)


def snapshot_types(queries: Iterable[str | None]) -> set[str]:
    """The record types whose snapshot views (`s_*`, `e_*`, `c_*`) `queries` read.

    A scoped `c_*` view of a message's record reads `c_message`: with any of
    them, messages are included.
    """
    found = {m for q in queries if q for m in _SNAPSHOT_VIEW.findall(q) if m in _RECORD_TYPE_NAMES}
    if found & set(BY_MESSAGE):
        found.add("message")
    return found


def types_read(facts: Iterable[Fact], kept: bool) -> set[str] | None:
    """The record types the facts read (None: a fact built in Python, which may
    read any); a kept fact read from its copy reads none."""
    queries: list[str | None] = []
    for fact in facts:
        if kept and fact.keep:
            continue  # its copy and the request tables (`at_as_of`)
        if fact.build is not None:
            return None
        queries.append(fact.sql)
    return snapshot_types(queries)


def _registry() -> dict[str, Fact]:
    from cxport.exports.facts import modules

    return {f.name: f for f in modules.ALL_FACTS}


def fact_order(names: Iterable[str], kept: bool = False) -> list[Fact]:
    """The named facts and their requirements, each once, requirements first.

    With `kept`, kept facts are read from their copies: their requirements
    are not needed (unless something else requires them).
    """
    registry = _registry()
    order: list[Fact] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if any(f.name == name for f in order):
            return
        if name in path:
            raise ValueError(f"derived facts form a cycle: {' -> '.join((*path, name))}")
        fact = registry[name]
        if not (kept and fact.keep):
            for dep in fact.requires:
                visit(dep, (*path, name))
        order.append(fact)

    for name in names:
        visit(name, ())
    return order


def build_fact(con: duckdb.DuckDBPyConnection, fact: Fact, ctx: FactContext) -> None:
    """Build one fact on `con` (its requirements already built)."""
    if fact.build is not None:
        fact.build(con, ctx)
    elif fact.sql is not None:
        kind = "TABLE" if fact.materialize else "VIEW"
        con.execute(f"CREATE OR REPLACE TEMP {kind} {fact.name} AS {fact.sql}")


def define_facts(
    con: duckdb.DuckDBPyConnection,
    names: Iterable[str],
    ctx: FactContext,
    kept: Kept | None = None,
) -> list[str]:
    """Build the named facts and their requirements on `con`; returns the order built.

    With `kept` (current for the request), kept facts are read from there.
    """
    from cxport.exports.kept import use

    order = fact_order(names, kept=kept is not None)
    for fact in order:
        if kept is not None and fact.keep:
            use(con, fact, kept)
        else:
            build_fact(con, fact, ctx)
    return [f.name for f in order]
