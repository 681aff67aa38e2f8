"""Each registered export against its floor, at one size.

    uv run python bench/exports.py                          # 1 000 000 conversations
    uv run python bench/exports.py --conversations 100000
    uv run python bench/exports.py --conversations 100000 --reuse --exports resolved-conversations
    uv run python bench/exports.py --db STORE --from 2024-05-01 --to 2024-05-31 --runs 3

Simulates the workspace (`bench/run.py`'s seed, start and 45 days), ingests
it and builds its kept facts (or, with `--db`, reads a store that has them),
then times every export of the catalogue (`cxport.exports.defs.EXPORTS`, so
exports registered later are measured too) over the month of June 2024 (or
`--from`..`--to`) in America/Sao_Paulo, each in a child process of its own
(`bench/step.py`), against its floor: for a row export a plain DuckDB `COPY`
of a table holding the same rows and columns; for an aggregate export
(teams, agent-metrics, virtual-agents, topics, tags) a plain `GROUP BY` over
the kept rows it reads for the range, to CSV (`bench/common.py`,
`AGGREGATE_READS`). Prints, per export (the run of median time of `--runs`):
wall and CPU time, rows, MB written, the floor's kind, wall and CPU time,
the ratio of wall times, peak resident memory (the machine is shared: CPU
time says what the wall time cannot); then whether the targets hold (each
export ≤ 3× its floor, peak memory ≤ 4 GB). `bench/run.py` is the full suite
(three sizes, medians, report); this script is the quick look at one size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/exports.py`: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import AGGREGATE_WORK, ROOT, ChildFailed, Measurement, run_child
from bench.run import REQUEST, SIMULATION, floor_args, request_args

RATIO_TARGET = 3.0
MEMORY_TARGET = 4 * 1024**3


def say(text: str) -> None:
    print(text, flush=True)


def prepare_store(work: Path, conversations: int, reuse: bool) -> Path:
    ndjson, db = work / "records.ndjson", work / "store.duckdb"
    if reuse and db.exists():
        say(f"reusing {db}")
        return db
    work.mkdir(parents=True, exist_ok=True)
    sim = run_child(
        ["simulate", "--ndjson", str(ndjson), "--conversations", str(conversations),
         "--seed", str(SIMULATION["seed"]), "--start", str(SIMULATION["start"]),
         "--days", str(SIMULATION["days"])]
    )  # fmt: skip
    say(f"simulate  {sim.seconds:8.1f} s  {sim.rows:,} records, {sim.out_bytes / 1e6:,.0f} MB")
    ing = run_child(["ingest", "--ndjson", str(ndjson), "--db", str(db)])
    say(f"ingest    {ing.seconds:8.1f} s  peak {ing.peak_rss / 1e6:,.0f} MB")
    facts = run_child(["facts", "--db", str(db)])  # what `cxport ingest` does after its batches
    say(f"facts     {facts.seconds:8.1f} s  peak {facts.peak_rss / 1e6:,.0f} MB")
    return db


def measure(
    db: Path, work: Path, name: str, request: dict[str, str]
) -> tuple[Measurement, Measurement, Measurement | None]:
    """The export, its floor and, for an aggregate export, its work floor (the
    proposed measure: `bench/common.py`, `AGGREGATE_WORK`)."""
    out = work / "exports" / f"{name}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    export = run_child(
        ["export", "--db", str(db), "--export", name, "--output", str(out), *request_args(request)]
    )
    floor = run_child(floor_args(name, db, out, work / "floor.csv", request))
    done = None
    if name in AGGREGATE_WORK:
        done = run_child(["work-floor", "--db", str(db), "--export", name,
                          "--output", str(work / "floor.csv"), *request_args(request)])  # fmt: skip
    (work / "floor.csv").unlink(missing_ok=True)
    return export, floor, done


def middle(runs: list[Measurement]) -> Measurement:
    """The run of median wall time (the upper middle one of an even count)."""
    return sorted(runs, key=lambda m: m.seconds)[len(runs) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=None, help="default bench/out/exports-N")
    parser.add_argument("--reuse", action="store_true", help="reuse the store left in --work")
    parser.add_argument("--exports", default="", help="comma-separated subset (default: all)")
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="an existing store with its kept facts (only read): nothing simulated",
    )
    parser.add_argument("--from", dest="date_from", default=REQUEST["from"])
    parser.add_argument("--to", dest="date_to", default=REQUEST["to"])
    parser.add_argument("--runs", type=int, default=1, help="runs of each (figures: medians)")
    args = parser.parse_args(argv)

    from cxport.exports.defs import EXPORTS

    names = [e.name for e in EXPORTS]
    if args.exports:
        wanted = args.exports.split(",")
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            parser.error(f"unknown exports: {', '.join(unknown)}")
        names = [n for n in names if n in wanted]
    work = args.work or ROOT / "bench" / "out" / f"exports-{args.conversations}"
    db = args.db or prepare_store(work, args.conversations, args.reuse)
    work.mkdir(parents=True, exist_ok=True)
    request = {**REQUEST, "from": args.date_from, "to": args.date_to}

    say(f"\n{'export':<24} {'time s':>8} {'cpu s':>7} {'rows':>10} {'MB':>8} {'floor':>8}"
        f" {'floor s':>8} {'cpu s':>7} {'ratio':>6} {'peak MB':>8} {'work s':>7} {'ratio':>6}")  # fmt: skip
    failed, worst_ratio, worst_work, peak = [], 0.0, 0.0, 0
    for name in names:
        try:
            runs = [measure(db, work, name, request) for _ in range(args.runs)]
        except ChildFailed as exc:
            failed.append(name)
            say(f"{name:<24} FAILED: {exc}")
            continue
        export, floor = middle([r[0] for r in runs]), middle([r[1] for r in runs])
        ratio = export.seconds / floor.seconds if floor.seconds > 0 else float("inf")
        worst_ratio, peak = max(worst_ratio, ratio), max(peak, export.peak_rss)
        done = [r[2] for r in runs if r[2] is not None]
        by_work = ""
        if done:
            w = middle(done)
            work_ratio = export.seconds / w.seconds if w.seconds > 0 else float("inf")
            worst_work = max(worst_work, work_ratio)
            by_work = f" {w.seconds:7.3f} {work_ratio:6.1f}"
        say(
            f"{name:<24} {export.seconds:8.2f} {export.cpu_seconds:7.2f} {export.rows or 0:>10,}"
            f" {export.out_bytes / 1e6:8.1f} {floor.detail.get('floor', 'COPY'):>8}"
            f" {floor.seconds:8.3f} {floor.cpu_seconds:7.2f}"
            f" {ratio:6.1f} {export.peak_rss / 1e6:8.0f}{by_work}"
        )
    say(
        f"\nworst ratio {worst_ratio:.1f} (target ≤ {RATIO_TARGET:.0f}):"
        f" {'met' if worst_ratio <= RATIO_TARGET else 'NOT met'};"
        f" aggregates against their work floor {worst_work:.1f}"
        f" ({'met' if worst_work <= RATIO_TARGET else 'NOT met'});"
        f" peak memory {peak / 1e9:.2f} GB (target ≤ 4 GB):"
        f" {'met' if peak <= MEMORY_TARGET else 'NOT met'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
