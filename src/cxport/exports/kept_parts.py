"""The kept facts' build in parts: facts keyed by conversation, range by range (issue 23).

A whole build computes each fact over every conversation at once. Once a
fact's rows outgrow the memory limit its groupings, windows and joins spill
to disk, and the build grows faster than the data (10 M conversations took
17 times as long as 1 M). Most kept facts are keyed by conversation, and a
conversation's row reads that conversation's records only: the argument the
refresh by parts rests on (`kept_plan.py`). So past the limit those facts
are built here over ranges of `conversation_id`, each small enough to be
computed in memory, and each range's rows are appended to the fact's table.
Each fact runs its own SQL over views narrowed to the range; the planner
chooses how many ranges (`part_count`: one, the whole build, until the
conversations outgrow the limit), and tests compare both builds.

Built in parts (`in_parts`): facts keyed by conversation (`Keep.touched`),
in SQL, that read no other fact beyond its touched rows and no agent's
stream of locks and presence changes (a lock session ends at its agent's
next lock, in any conversation). The others are built whole, in stages
between (`stages`). In a range:

- the snapshot views of records keyed by conversation (`s_*`, so the `e_*`
  and `c_*` views over them) hold the range's conversations' records, and
  those of messages' records the range's messages';
- a fact built in the same stage is its rows of the range; a fact built
  before, keyed by conversation, its kept rows of the range; any other fact,
  all its rows;
- a fact's rows outside the range are left out (as a refresh leaves out the
  rows it did not touch), so each row is built once.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection

import duckdb

from cxport.exports.engine import sample_bounds, sort_into
from cxport.exports.facts import BY_CONVERSATION, BY_MESSAGE
from cxport.exports.keep import KEEP, Keep
from cxport.exports.kept_plan import TOUCHED_CONTACT_CONVERSATION, TOUCHED_CONVERSATION
from cxport.store import Snapshot

# Bytes of the memory limit per conversation of a range: at the default limit
# (3.16 GB here) about a million conversations' facts are computed without
# spilling (docs/performance.md, "The build in parts").
BYTES_PER_CONVERSATION = 3_000
# What a conversation-keyed fact may not read: an agent's stream ends its
# sessions in other conversations.
_STREAMS = frozenset({"s_lock", "s_presence"})
_BY_CONVERSATION = (TOUCHED_CONVERSATION, TOUCHED_CONTACT_CONVERSATION)
_NARROWED = (*BY_CONVERSATION, *BY_MESSAGE)  # the record types a range narrows
_WHOLE = "cx_whole_"  # the prefix of the snapshot's whole views during a stage
# The facts built in parts past the limit: those it makes faster. Measured at
# 10 M conversations in ten ranges against whole (docs/performance.md, "The
# build in parts"): `f_conversation` 123 s against 147 s, `f_response_episode`
# 89 s against 114 s. The other eligible facts took as long or longer, the
# ranges' own cost (each range scans its records' tables, and a sorted fact's
# rows are sorted again after) outweighing what they saved.
IN_PARTS = frozenset({"f_conversation", "f_response_episode"})


def keyed_by_conversation(keep: Keep) -> bool:
    """Whether each of the fact's rows is a conversation's (refreshed by conversation)."""
    return keep.touched in _BY_CONVERSATION


def eligible(keep: Keep) -> bool:
    """Whether the fact can be built range by range of conversations: its
    rows are conversations', from their own records (not the agents' streams)."""
    fact = keep.fact
    return (
        fact.sql is not None
        and keyed_by_conversation(keep)
        and not keep.reads_whole
        and not fact.reads & _STREAMS
    )


def in_parts(keep: Keep) -> bool:
    """Whether the fact is built in parts past the limit (`IN_PARTS`)."""
    return keep.name in IN_PARTS


def part_count(conversations: int, memory: int) -> int:
    """How many ranges the conversations' facts are built in under `memory` bytes."""
    return max(1, -(-conversations * BYTES_PER_CONVERSATION // max(1, memory)))


def ranges(con: duckdb.DuckDBPyConnection, parts: int) -> list[str]:
    """Conditions on `conversation_id` cutting the snapshot's conversations
    (`s_conversation`) into about `parts` ranges of as many, in order; every
    id is in exactly one. One condition (`true`) for one part."""
    bounds = [_text(str(b)) for b in sample_bounds(con, "conversation_id", "s_conversation", parts)]
    if not bounds:
        return ["true"]
    out = []
    for lo, hi in itertools.pairwise([None, *bounds, None]):
        tests = [f"conversation_id >= {lo}"] * (lo is not None)
        tests += [f"conversation_id < {hi}"] * (hi is not None)
        out.append(" AND ".join(tests))
    return out


def stages(keeps: list[Keep], parts: bool) -> list[tuple[bool, list[Keep]]]:
    """`keeps` (requirements first) as stages built alternately whole and in
    parts (True), each fact after its requirements, as few stages as that
    allows; one whole stage when not in `parts`."""
    if not parts:
        return [(False, keeps)]
    out: list[tuple[bool, list[Keep]]] = []
    done: set[str] = set()
    left = list(keeps)
    for parted in itertools.cycle((False, True)):
        if not left:
            return out
        stage = []
        for keep in left:  # in order: a requirement in this stage comes first
            if in_parts(keep) == parted and all(r in done for r in keep.fact.requires):
                stage.append(keep)
                done.add(keep.name)
        if stage:
            out.append((parted, stage))
            left = [k for k in left if k.name not in done]
    return out


def narrowed(stage: list[Keep]) -> set[str]:
    """The facts built before `stage` (in parts) that its ranges narrow: those
    keyed by conversation that its facts read."""
    names = {k.name for k in stage}
    return {
        r
        for keep in stage
        for r in keep.fact.requires
        if r not in names and keyed_by_conversation(KEEP[r])
    }


def build(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    snapshot: Snapshot,
    stage: list[Keep],
    conditions: list[str],
    tables: dict[str, str],
    read_after: Collection[str],
) -> None:
    """Build the facts of `stage` range by range (`conditions`) on `con`, whose
    snapshot views are `snapshot`'s.

    `tables` names the table of every stored fact (in `schema`) and of every
    fact built before that the ranges narrow (`narrowed`). A stored fact is
    appended to range by range or, when it has an order, sorted into after
    from a temporary table of its ranges; a fact not stored that a later
    stage reads (`read_after`) goes to a temporary table, named in `tables`.
    Each is then a view of its table, as in a whole build; the stage's other
    facts are dropped.
    """
    earlier = sorted(narrowed(stage))
    staged = {
        k.name: f"cx_all_{k.name}" if k.order or k.name not in tables else tables[k.name]
        for k in stage
        if k.name in tables or k.name in read_after
    }
    snapshot.define(con, prefix=_WHOLE, types=_NARROWED)
    try:
        for n, condition in enumerate(conditions):
            _narrow(con, condition)
            for name in earlier:
                con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {name} AS"
                    f" SELECT * FROM {tables[name]} WHERE {condition}"
                )
            for keep in stage:
                part = f"cx_part_{keep.name}"
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {part} AS"
                    f" SELECT * FROM ({keep.fact.sql}) AS rows_ WHERE {condition}"
                )
                con.execute(f"CREATE OR REPLACE TEMP VIEW {keep.name} AS SELECT * FROM {part}")
                if keep.name in staged:
                    target = staged[keep.name]
                    kind = "TABLE" if "." in target else "TEMP TABLE"
                    verb = f"CREATE {kind} {target} AS" if n == 0 else f"INSERT INTO {target}"
                    con.execute(f"{verb} SELECT * FROM {part}")
    finally:
        snapshot.define(con, types=_NARROWED)
        for name in earlier:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {tables[name]}")
        for keep in stage:
            con.execute(f"DROP VIEW IF EXISTS {keep.name}")
            con.execute(f"DROP TABLE IF EXISTS cx_part_{keep.name}")
        for name, _ in snapshot.views(_WHOLE, _NARROWED):
            con.execute(f"DROP VIEW IF EXISTS {name}")
    for keep in stage:
        if keep.name not in staged:
            continue
        table = tables.setdefault(keep.name, staged[keep.name])
        if table != staged[keep.name]:  # stored in an order
            sort_into(con, table, staged[keep.name], str(keep.order))
            con.execute(f"DROP TABLE {staged[keep.name]}")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {keep.name} AS SELECT * FROM {table}")


def _narrow(con: duckdb.DuckDBPyConnection, condition: str) -> None:
    """The snapshot's views of records keyed by conversation narrowed to `condition`'s,
    and of messages' records to the narrowed messages'."""
    for name in BY_CONVERSATION:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW s_{name} AS SELECT * FROM {_WHOLE}s_{name} WHERE {condition}"
        )
    for name in BY_MESSAGE:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW s_{name} AS SELECT * FROM {_WHOLE}s_{name}"
            " WHERE message_id IN (SELECT message_id FROM s_message)"
        )


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
