"""Engines: each runs a plan (`cxport.exports.plan`) on its own data plane.

An engine defines a plan's steps in order, then writes each output to its
file. What differs between engines is declared as data (`Traits`, one row
per engine, as sqlmesh's engine adapters declare theirs): the dialect its
SQL is run in, how the `cx_*` helpers are defined, how a sorted table is
made, how rows computed in Python are loaded, whether a plan runs in a
transaction and whether the store keeps facts to read. The code that acts
on those differences is each engine's own module (`duckdb.py`, `spark.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import datetime as dt

    from cxport.exports.kept import Kept
    from cxport.exports.plan import Helpers, Output, Plan


@dataclass(frozen=True)
class Traits:
    """What an engine does differently, as data."""

    name: str
    dialect: str  # sqlglot's name of the SQL it runs (the plan's is DuckDB's)
    helpers: tuple[str, ...]  # SQL defining the `cx_*` helpers that need no request
    zone_helper: str  # how `cx_ts` renders an instant in the request's zone
    sorted_table: str  # how a SORTED step (and a file's rows) is sorted
    python_rows: str  # how a PYTHON step's Arrow rows become a table
    transaction: str  # what isolates a plan from concurrent writes
    kept_facts: bool  # whether the store keeps facts a plan can read


# Told each file as it is written: (output, rows, bytes).
OnFile = Callable[["Output", int, int], None]
Progress = Callable[[float], None]


class Session(Protocol):
    """An engine's connection for one plan: helpers defined, reads isolated."""

    def kept(self, workspace: str, as_of: dt.datetime, version: bool = False) -> Kept | None:
        """The kept facts current for a request (None where the engine keeps none);
        with `version`, those kept even if batches landed since (`kept.version`)."""
        ...

    def execute(
        self, plan: Plan, progress: Progress | None = None, on_file: OnFile | None = None
    ) -> list[tuple[int, int]]:
        """Define the plan's steps, then write its outputs: (rows, bytes) per file."""
        ...


class Engine(Protocol):
    traits: Traits

    def session(self, helpers: Helpers) -> AbstractContextManager[Session]: ...
