"""The DuckDB engine: runs a plan on a cursor of the store.

A plan runs on a cursor of its own (its temporary objects, its helpers,
its transaction): the helpers are installed before the transaction begins
(a transaction would not see a function registered after it began); the
kept facts current for the request are looked up inside it, so the plan
reads one version of the store even if a batch lands meanwhile; a group of
exports computes each file's facts just before it (`plan.stages`), drops
those no later file reads after it, and commits (a temporary table dropped in
a transaction keeps its space until the commit, so a group's sorted rows and
facts would pile up).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from cxport.engines import Engine, OnFile, Progress, Traits
from cxport.exports import engine
from cxport.exports.catalogue import Column
from cxport.exports.engine import create_table
from cxport.exports.facts import FactContext
from cxport.exports.plan import Helpers, Kind, Plan, Step, stages
from cxport.exports.writer import FileSpec, write

if TYPE_CHECKING:
    from cxport.exports.kept import Kept

TRAITS = Traits(
    name="duckdb",
    dialect="duckdb",
    helpers=engine.MACROS,
    zone_helper="SQL CASEs over the zone's offsets in the window; a Python function outside it",
    sorted_table="staged: the rows materialized unsorted, then sorted into the table"
    " (`engine.create_table`: each step spills)",
    python_rows="columns as typed list parameters zipped by unnest (no Arrow scan: it imports pandas)",
    transaction="BEGIN on the plan's cursor; COMMIT after each file",
    kept_facts=True,
)

# Arrow types as DuckDB's, and how a column travels as a list parameter:
# instants as epoch milliseconds, dates as epoch days.
_EPOCH = "TIMESTAMP '1970-01-01 00:00:00'"
_TYPES: Mapping[pa.DataType, tuple[str, pa.DataType, str]] = {
    pa.string(): ("VARCHAR", pa.string(), "{}"),
    pa.int64(): ("BIGINT", pa.int64(), "{}"),
    pa.int32(): ("INTEGER", pa.int32(), "{}"),
    pa.bool_(): ("BOOLEAN", pa.bool_(), "{}"),
    pa.float64(): ("DOUBLE", pa.float64(), "{}"),
    pa.timestamp("ms"): ("TIMESTAMP", pa.int64(), f"{_EPOCH} + to_milliseconds({{}})"),
    pa.date32(): ("DATE", pa.int32(), "DATE '1970-01-01' + {}"),
}
_LIST_TYPES = {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.int32(): "INTEGER",
               pa.bool_(): "BOOLEAN", pa.float64(): "DOUBLE"}  # fmt: skip


def define(con: duckdb.DuckDBPyConnection, step: Step, ctx: FactContext | None = None) -> None:
    """Define one step on `con` (the steps it reads already defined)."""
    if step.kind is Kind.PYTHON:
        assert step.rows is not None and ctx is not None, step.name
        inputs = {name: con.sql(sql).to_arrow_table() for name, sql in step.inputs}
        load(con, step.name, step.rows(inputs, ctx))
    elif step.kind is Kind.SORTED:
        create_table(con, step.name, [step.sql], step.order)
    else:
        kind = "TABLE" if step.kind is Kind.TABLE else "VIEW"
        con.execute(f"CREATE OR REPLACE TEMP {kind} {step.name} AS {step.sql}")


def load(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> None:
    """A temporary table `name` holding `rows`: their columns go in as list
    parameters, one per column, zipped by `unnest`."""
    columns, values, params = [], [], []
    for field, column in zip(rows.schema, rows.columns, strict=True):
        sql_type, carried, expr = _TYPES[field.type]
        columns.append(f'"{field.name}" {sql_type}')
        values.append(expr.format(f"unnest(?::{_LIST_TYPES[carried]}[])"))
        params.append(column.cast(carried).to_pylist())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({', '.join(columns)})")
    if rows.num_rows:
        con.execute(f"INSERT INTO {name} SELECT {', '.join(values)}", params)


# Writes a file: (cursor, columns, query, order, spec, target) -> (rows, bytes).
Write = Callable[
    [duckdb.DuckDBPyConnection, tuple[Column, ...], str, str, FileSpec, "str | Path"],
    tuple[int, int],
]


class DuckDBSession:
    """A plan's cursor of the store, in a transaction (see the module's notes)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, write: Write = write) -> None:
        self.con = con
        self.write = write

    def kept(self, workspace: str, as_of: dt.datetime, version: bool = False) -> Kept | None:
        from cxport.exports.kept import current
        from cxport.exports.kept import version as kept_version

        return (kept_version if version else current)(self.con, workspace, as_of)

    def execute(
        self, plan: Plan, progress: Progress | None = None, on_file: OnFile | None = None
    ) -> list[tuple[int, int]]:
        for step in plan.steps[: plan.prepared]:
            define(self.con, step, plan.context)
        if progress is not None:
            progress(0.1)
        written = []
        for n, stage in enumerate(stages(plan), start=1):
            for step in stage.steps:
                define(self.con, step, plan.context)
            if progress is not None and n == 1:
                progress(0.5)
            out = stage.output
            rows, size = self.write(self.con, out.columns, out.sql, out.order, out.spec, out.target)
            written.append((rows, size))
            if on_file is not None:
                on_file(out, rows, size)  # e.g. a progress line per file
            for step in stage.done:
                kind = "VIEW" if step.kind is Kind.VIEW else "TABLE"
                self.con.execute(f"DROP {kind} IF EXISTS temp.main.{step.name}")
            self.con.execute("COMMIT")
            if n < len(plan.outputs):
                self.con.execute("BEGIN TRANSACTION")
        return written


class DuckDBEngine:
    """Plans run on cursors of `store` (a connection of the DuckDB store); files
    are written by `write` (the one writer, `writer.write`, unless a test
    stands another in)."""

    traits = TRAITS

    def __init__(
        self,
        store: duckdb.DuckDBPyConnection,
        on_cursor: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
        write: Write = write,
    ) -> None:
        self.store = store
        self.on_cursor = on_cursor  # e.g. to interrupt a cancelled job's query
        self.write = write

    @contextlib.contextmanager
    def session(self, helpers: Helpers) -> Iterator[DuckDBSession]:
        con = self.store.cursor()
        if self.on_cursor is not None:
            self.on_cursor(con)
        try:
            engine.install(con, helpers.zone, self.store, helpers.window)
            con.execute("BEGIN TRANSACTION")
            yield DuckDBSession(con, self.write)
        finally:
            con.close()  # rolls back what is left of the transaction


def as_engine(store: duckdb.DuckDBPyConnection) -> Engine:
    """The DuckDB engine over `store`, as an `Engine` (mypy holds it to the protocol)."""
    return DuckDBEngine(store)
