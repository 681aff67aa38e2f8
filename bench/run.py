"""The benchmark suite, in one command.

    uv run python bench/run.py                                  # 10 000, 100 000, 1 000 000; 3 runs
    uv run python bench/run.py --sizes 10000 --runs 1 --out bench/out/smoke    # what CI runs
    uv run python bench/run.py --runs 3,3,1                     # one run only at 1 000 000

For each size (simulated conversations) it measures, each step in a child
process of its own (`bench/step.py`; peak memory is that process's):
simulate, ingest, each registered export (CSV, one month, a non-UTC zone),
all of them together; and side by side the floors of this machine (DuckDB's
plain read_json of the same NDJSON; for a row export a plain COPY of a table
with its rows and columns, for an aggregate export a plain GROUP BY over the
kept rows it reads for the range, to CSV) and what a user would otherwise write (the pandas
script `bench/pandas_baseline.py`, run at the sizes up to `--pandas-max` and
extrapolated linearly above). Each figure is the median of `--runs` runs
(one count for every size, or one per size).

It writes `results.json` and `results.md` (the tables, the ratios and the
targets of the issue) and `time-vs-size.png` into `--out`; `--publish` also
puts them into docs/performance.md and the README (see `bench/report.py`).
Exports not registered yet are listed as missing, not failed; a step that
fails is reported and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/run.py`: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report
from bench.common import AGGREGATE_READS, ROOT, ChildFailed, Measurement, machine, run_child

# The twelve exports of exports.md, in its order.
TWELVE = (
    "resolved-conversations",
    "open-conversations",
    "messages",
    "teams",
    "contacts",
    "topics",
    "tags",
    "agent-presence",
    "agent-metrics",
    "response-times",
    "virtual-agents",
    "contact-attributes",
)

# The simulated workspace and the request every export is measured with.
SIMULATION = {"seed": 7, "start": "2024-05-20", "days": 45}
REQUEST = {
    "from": "2024-06-01",
    "to": "2024-06-30",
    "tz": "America/Sao_Paulo",
    "as-of": "2024-08-01T00:00:00+00:00",
}
PANDAS_COMPARED_WITH = "resolved-conversations"
PANDAS_COLUMNS = ("first_response_s", "handle_s", "no_reply_s", "cherry_picking_s")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def request_args(request: dict[str, str] = REQUEST) -> list[str]:
    return [item for key, value in request.items() for item in (f"--{key}", value)]


def floor_args(
    export: str, db: Path, written: Path, output: Path, request: dict[str, str] = REQUEST
) -> list[str]:
    """The `bench.step` arguments of `export`'s floor, written to `output`: a plain GROUP BY
    over the kept rows it reads for the request's range when it is an aggregate export,
    else a plain COPY of the rows and columns it wrote (`written`)."""
    if export in AGGREGATE_READS:
        return ["group-floor", "--db", str(db), "--export", export, "--output", str(output),
                *request_args(request)]  # fmt: skip
    return ["copy", "--csv", str(written), "--output", str(output)]


def summarize(runs: list[Measurement], measure: str) -> dict[str, Any]:
    """The figures of one step: median time of its runs, peak memory, sizes, MB/s.

    `measure` names the bytes its MB/s is of: `in` (what it read) or `out` (what it wrote).
    """
    seconds = [m.seconds for m in runs]
    last = runs[-1]
    median = statistics.median(seconds)
    measured_bytes = last.in_bytes if measure == "in" else last.out_bytes
    return {
        "median_s": median,
        "median_cpu_s": statistics.median(m.cpu_seconds for m in runs),
        "runs_s": seconds,
        "peak_rss": max(m.peak_rss for m in runs),
        "in_bytes": last.in_bytes,
        "out_bytes": last.out_bytes,
        "rows": last.rows,
        "columns": last.columns,
        "mb_s": measured_bytes / 1e6 / median if median > 0 else None,
        "mb_s_of": measure,
        "detail": last.detail,
    }


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.runs_per_size: dict[int, int] = dict(zip(args.sizes, args.runs, strict=True))
        self.out: Path = args.out
        self.pandas_max: int = args.pandas_max
        self.keep_data: bool = args.keep_data
        self.lean: bool = args.lean_disk
        self.failures: list[str] = []
        self.results: dict[str, Any] = {
            "machine": machine(),
            "args": {
                "sizes": args.sizes,
                "runs": self.runs_per_size,
                "pandas_max": args.pandas_max,
            },
            "simulation": SIMULATION,
            "request": REQUEST,
            "sizes": {},
        }

    def measure(
        self, entry: dict[str, Any], name: str, args: list[str], measure: str
    ) -> dict[str, Any] | None:
        """Run one step the size's number of times, each in its own process; record its figures."""
        done: list[Measurement] = []
        runs = entry["runs"]
        for i in range(runs):
            try:
                m = run_child(args)
            except ChildFailed as exc:
                say(f"  {name}: FAILED\n{exc}")
                self.failures.append(f"{entry['conversations']}: {name}")
                entry["steps"][name] = {"error": str(exc)}
                return None
            done.append(m)
            say(
                f"  {name:<36} run {i + 1}/{runs}: {m.seconds:8.2f} s ({m.cpu_seconds:7.2f} s CPU)"
                f"  {m.peak_rss / 2**20:7.0f} MiB peak"
            )
        figures = summarize(done, measure)
        entry["steps"][name] = figures
        return figures

    def size(self, conversations: int) -> None:
        work = self.out / f"n{conversations}"
        work.mkdir(parents=True, exist_ok=True)
        ndjson, db, floor_db = work / "records.ndjson", work / "store.duckdb", work / "floor.duckdb"
        exports_dir, floors_dir = work / "exports", work / "floors"
        exports_dir.mkdir(exist_ok=True)
        floors_dir.mkdir(exist_ok=True)
        runs = self.runs_per_size[conversations]
        entry: dict[str, Any] = {"conversations": conversations, "runs": runs, "steps": {}}
        self.results["sizes"][str(conversations)] = entry
        say(f"== {conversations} conversations ({runs} run(s) each) ==")
        begin = time.perf_counter()
        spills = FolderPeak(db.with_name(db.name + ".tmp"))  # where the steps spill (limits.py)

        needed = ("cxport.simulate:simulate", "cxport.ingest:ingest_files")
        entry["missing"] = [name for name in needed if not importable(name)]
        if entry["missing"]:
            say(f"  not measured: {', '.join(entry['missing'])} not importable yet")
            return
        sim = self.measure(
            entry,
            "simulate",
            ["simulate", "--ndjson", str(ndjson), "--conversations", str(conversations),
             "--seed", str(SIMULATION["seed"]), "--start", str(SIMULATION["start"]),
             "--days", str(SIMULATION["days"])],
            "out",
        )  # fmt: skip
        if sim is None:
            return
        entry["records"] = sim["rows"]
        entry["ndjson_bytes"] = sim["out_bytes"]

        self.measure(
            entry,
            "read_json_floor",
            ["read-json", "--ndjson", str(ndjson), "--db", str(floor_db)],
            "in",
        )
        floor_db.unlink(missing_ok=True)
        ingest = ["ingest", "--ndjson", str(ndjson), "--db", str(db)]
        if self.measure(entry, "ingest", ingest, "in") is None:
            return
        self.measure(entry, "facts", ["facts", "--db", str(db)], "out")
        entry["store_bytes"] = db.stat().st_size if db.exists() else None
        if self.lean and conversations > self.pandas_max:
            ndjson.unlink(missing_ok=True)  # read by nothing after the ingest

        registered = registered_exports()
        entry["missing"] = [name for name in TWELVE if name not in registered]
        if entry["missing"]:
            say(f"  not registered yet: {', '.join(entry['missing'])}")
        for name in registered:
            output = exports_dir / f"{name}.csv"
            figures = self.measure(
                entry,
                f"export:{name}",
                [
                    "export",
                    "--db",
                    str(db),
                    "--export",
                    name,
                    "--output",
                    str(output),
                    *request_args(),
                ],
                "out",
            )
            if figures is not None:
                floor = floor_args(name, db, output, floors_dir / f"{name}.csv")
                self.measure(entry, f"floor:{name}", floor, "out")
                if self.lean:  # their sizes are in the figures
                    output.unlink(missing_ok=True)
                    (floors_dir / f"{name}.csv").unlink(missing_ok=True)
        if registered:
            self.measure(
                entry,
                "export-all",
                ["export-all", "--db", str(db), "--out-dir", str(work / "all"), *request_args()],
                "out",
            )
            if self.lean:
                shutil.rmtree(work / "all", ignore_errors=True)
        if conversations <= self.pandas_max:
            self.measure(
                entry,
                "pandas",
                [
                    "pandas",
                    "--ndjson",
                    str(ndjson),
                    "--output",
                    str(work / "pandas.csv"),
                    *request_args(),
                ],
                "in",
            )
            entry["pandas_agrees"] = same_metrics(
                work / "pandas.csv", exports_dir / f"{PANDAS_COMPARED_WITH}.csv"
            )
            if entry["pandas_agrees"] is False:
                self.failures.append(f"{conversations}: pandas and cxport disagree")
        entry["wall_s"] = time.perf_counter() - begin
        entry["spill_peak_bytes"] = spills.stop()
        if not self.keep_data:
            for path in (ndjson, db, db.with_name(db.name + ".wal")):
                path.unlink(missing_ok=True)
            for folder in (exports_dir, floors_dir, work / "all"):
                shutil.rmtree(folder, ignore_errors=True)


class FolderPeak:
    """The most bytes a folder held at once, polled in a thread until `stop`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.wait(0.2):
            try:
                total = sum(e.stat().st_size for e in os.scandir(self.folder))
            except OSError:  # not there yet, or a file removed while read
                continue
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


def same_metrics(pandas_csv: Path, export_csv: Path) -> bool | None:
    """Whether the pandas script and the export give the same seconds for every conversation.

    The comparison means something only if both compute the same thing; None
    when either file is missing (a step failed or was not measured).
    """
    if not pandas_csv.exists() or not export_csv.exists():
        return None
    columns = (
        "First Response Time (s)",
        "Handle Time (s)",
        "No Reply Time (s)",
        "Cherry Picking Time (s)",
    )

    def read(path: Path, key: str, names: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        with path.open(newline="", encoding="utf-8") as f:
            return {row[key]: tuple(row[c] for c in names) for row in csv.DictReader(f)}

    pandas = read(pandas_csv, "conversation_id", PANDAS_COLUMNS)
    cxport = read(export_csv, "Conversation ID", columns)
    agree = pandas == cxport
    if not agree:
        differ = sorted(k for k in pandas.keys() | cxport.keys() if pandas.get(k) != cxport.get(k))
        say(f"  pandas and cxport disagree on {len(differ)} conversations, e.g. {differ[:5]}")
    return agree


def importable(name: str) -> bool:
    """Whether `module:function` can be imported (a teammate's part may not be written yet)."""
    module, _, function = name.partition(":")
    try:
        return hasattr(importlib.import_module(module), function)
    except Exception as exc:  # not written yet, or half-written: the tests report that
        say(f"  cannot import {module}: {type(exc).__name__}: {exc}")
        return False


def registered_exports() -> list[str]:
    """The registered exports, in the order of exports.md (unknown names last)."""
    from cxport.exports.defs import EXPORTS

    names = [e.name for e in EXPORTS]
    return sorted(names, key=lambda n: (TWELVE.index(n) if n in TWELVE else len(TWELVE), n))


def parse_sizes(text: str) -> list[int]:
    sizes = list(dict.fromkeys(int(p.replace("_", "")) for p in text.split(",") if p.strip()))
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("--sizes: a comma-separated list of positive counts")
    return sizes


def parse_counts(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("--runs: a count, or counts separated by commas") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--sizes", type=parse_sizes, default=[10_000, 100_000, 1_000_000],
        help="simulated conversations, comma-separated (default: 10000,100000,1000000)",
    )  # fmt: skip
    parser.add_argument(
        "--runs",
        type=parse_counts,
        default=[3],
        help="runs of each step (figures are medians): one count, or one per size (3,3,1)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "latest")
    parser.add_argument(
        "--pandas-max", type=int, default=100_000,
        help="run the pandas script up to this size; extrapolate above (default 100000)",
    )  # fmt: skip
    parser.add_argument("--keep-data", action="store_true", help="keep the NDJSON, store and files")
    parser.add_argument(
        "--lean-disk",
        action="store_true",
        help="delete the NDJSON once ingested and each file once measured (10 M: 41 GB of NDJSON)",
    )
    parser.add_argument(
        "--publish", action="store_true",
        help="also write docs/performance.md's figures, its chart and the README's table",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if len(args.runs) == 1:
        args.runs = args.runs * len(args.sizes)
    if len(args.runs) != len(args.sizes) or min(args.runs) < 1:
        parser.error("--runs: one count ≥ 1, or one per size")
    args.out.mkdir(parents=True, exist_ok=True)

    suite = Suite(args)
    for conversations in args.sizes:
        suite.size(conversations)
        save(suite.results, args.out)  # what is measured so far survives an interruption
    suite.results["machine"]["load_average_end"] = machine()["load_average"]
    suite.results["failures"] = suite.failures
    save(suite.results, args.out)
    report.write(suite.results, args.out, publish=args.publish)
    say(f"results: {args.out / 'results.md'}")
    if suite.failures:
        say("failed: " + "; ".join(suite.failures))
        return 1
    return 0


def save(results: dict[str, Any], out: Path) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
