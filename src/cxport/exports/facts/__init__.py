"""Derived facts: each named once, defined on a connection on demand.

A fact is a temporary table (or view) `f_<name>` built from the snapshot
views, the request tables and other facts. Exports list the facts they read;
`define_facts` builds those and what they require, each once.
Fact modules register theirs in `ALL_FACTS` below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import duckdb


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


def _registry() -> dict[str, Fact]:
    from cxport.exports.facts import modules

    return {f.name: f for f in modules.ALL_FACTS}


def define_facts(
    con: duckdb.DuckDBPyConnection, names: Iterable[str], ctx: FactContext
) -> list[str]:
    """Build the named facts and their requirements on `con`; returns the order built."""
    registry = _registry()
    built: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in built:
            return
        if name in path:
            raise ValueError(f"derived facts form a cycle: {' -> '.join((*path, name))}")
        fact = registry[name]
        for dep in fact.requires:
            visit(dep, (*path, name))
        if fact.build is not None:
            fact.build(con, ctx)
        elif fact.sql is not None:
            kind = "TABLE" if fact.materialize else "VIEW"
            con.execute(f"CREATE OR REPLACE TEMP {kind} {fact.name} AS {fact.sql}")
        built.append(name)

    for name in names:
        visit(name, ())
    return built
