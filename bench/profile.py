"""Where an export's time goes: the snapshot, each derived fact, the query and the writer.

    uv run python -m bench.profile --db STORE [--export NAME …] [--output profile.md]

Runs each export the way `run_export` does (its scope included), on one
store, but builds its derived facts one at a time and times each (a fact is
built again by every export that needs it, as `run_export` does). Prints a Markdown table per
export and a summary of the facts over all exports: what building each fact
once would save. It runs the steps of the export's plan (`cxport.exports.plan`,
every fact computed) one at a time on the DuckDB engine; it is a diagnostic,
not a benchmark: its times are single runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import defaultdict
from pathlib import Path
from tempfile import TemporaryDirectory

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import stopwatch
from bench.figures import fmt_s, table
from bench.run import REQUEST, TWELVE

Timing = list[tuple[str, float]]


def profile_export(store: object, name: str, out_dir: Path) -> Timing:
    """[(part, seconds)] of one export: prepare, each fact, write."""
    from cxport.engines.duckdb import DuckDBEngine, define
    from cxport.exports import ExportRequest
    from cxport.exports.plan import plan
    from cxport.exports.writer import write

    request = ExportRequest(
        export=name,
        date_from=dt.date.fromisoformat(REQUEST["from"]),
        date_to=dt.date.fromisoformat(REQUEST["to"]),
        tz=REQUEST["tz"],
        as_of=dt.datetime.fromisoformat(REQUEST["as-of"]),
    )
    computed = plan(request, request.as_of_utc(), None, out_dir / f"{name}.csv")
    parts: Timing = []
    with DuckDBEngine(store).session(computed.helpers) as session:  # type: ignore[arg-type]
        con = session.con
        with stopwatch() as t:
            for step in computed.steps[: computed.prepared]:
                define(con, step, computed.context)
        parts.append(("prepare (snapshot views, request, scope)", t[0]))
        for step in computed.steps[computed.prepared :]:
            with stopwatch() as t:
                define(con, step, computed.context)
            parts.append((step.name, t[0]))
        (out,) = computed.outputs
        with stopwatch() as t:
            write(con, out.columns, out.sql, out.order, out.spec, out.target)
        parts.append(("query and writer", t[0]))
    return parts


def report(profiles: dict[str, Timing]) -> str:
    out = []
    facts: dict[str, list[float]] = defaultdict(list)
    for name, parts in profiles.items():
        total = sum(s for _, s in parts)
        top = sorted(parts, key=lambda p: -p[1])
        out.append(
            [
                name,
                fmt_s(total),
                "; ".join(f"{part} {fmt_s(s)}" for part, s in top[:4]),
            ]
        )
        for part, s in parts:
            if part.startswith("f_"):
                facts[part].append(s)
    lines = ["### Per export", "", table(["export", "s", "largest parts (s)"], out, "lrl"), ""]
    rows = []
    for fact, times in sorted(facts.items(), key=lambda kv: -sum(kv[1])):
        rows.append([fact, str(len(times)), fmt_s(sum(times)), fmt_s(sum(times) - max(times))])
    lines += [
        "### Derived facts over all exports",
        "",
        table(["fact", "built by n exports", "total s", "saved if built once, s"], rows),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from cxport.exports.defs import EXPORTS
    from cxport.store import open_store

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--export", action="append", help="only these (default: every registered)")
    parser.add_argument("--output", type=Path, help="write the Markdown here too")
    args = parser.parse_args(argv)
    names = args.export or sorted(
        (e.name for e in EXPORTS), key=lambda n: TWELVE.index(n) if n in TWELVE else 99
    )
    store = open_store(args.db, read_only=True)
    profiles = {}
    with TemporaryDirectory(prefix="cxport-profile-") as tmp:
        for name in names:
            profiles[name] = profile_export(store, name, Path(tmp))
            print(f"{name}: {sum(s for _, s in profiles[name]):.2f} s", file=sys.stderr)
    store.close()
    text = report(profiles)
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
