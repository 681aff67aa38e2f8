"""Where the kept facts' build spends its time: each fact's seconds, memory and spill.

    uv run python -m bench.build --db STORE [--memory-limit 2GB] [--shares N] [--output build.md]

Builds every kept fact of the store's workspace whole, as `cxport ingest`
does after its batches (`kept.build_schema`, the same loop), into a new
schema that it drops afterwards: the store's recorded kept facts are left as
they were. For each fact it gives the seconds from the previous fact's end,
the peak resident memory of the process and the peak size of the spill
folder meanwhile (sampled every 0.2 s); the first fact's seconds include
defining the snapshot's views. `--shares` sets how many shares of the
conversations the facts built by conversation are built in (by default the
build's own choice, `kept.build_shares`). The workspace is `default`, the one the
benchmarks' stores hold. A diagnostic for the build's growth with the data
(issue 23), not a timed test: its times are single runs.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import fmt_s, table


def _folder_bytes(folder: Path) -> int:
    total = 0
    with suppress(OSError):
        for item in folder.iterdir():
            with suppress(OSError):
                total += item.stat().st_size
    return total


@contextmanager
def _sampled(spill: Path) -> Iterator[dict[str, int]]:
    """While the block runs, the peaks since the last reset: `rss` (bytes) and
    `spill` (the spill folder's bytes). The caller resets them to 0."""
    import psutil

    me = psutil.Process()
    peak = {"rss": 0, "spill": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak["rss"] = max(peak["rss"], me.memory_info().rss)
            peak["spill"] = max(peak["spill"], _folder_bytes(spill))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


def profile_build(
    db: Path, memory: str = "", shares: int | None = None
) -> list[tuple[str, float, int, int]]:
    """[(fact, seconds, peak rss, peak spill)] of one whole build of `db`'s kept facts."""
    from cxport.exports import kept
    from cxport.limits import Limits
    from cxport.store import open_store

    limits = Limits(memory=memory)
    con = open_store(db, limits=limits)
    rows: list[tuple[str, float, int, int]] = []
    try:
        horizon = kept.workspace_horizon(con, "default")
        if horizon is None:
            raise SystemExit(f"{db}: no records to build kept facts from")
        cur = con.cursor()
        with _sampled(limits.spill_folder(db)) as peak:
            began = time.perf_counter()

            def on_fact(name: str) -> None:
                nonlocal began
                now = time.perf_counter()
                rows.append((name, now - began, peak["rss"], peak["spill"]))
                peak["rss"] = peak["spill"] = 0
                began = time.perf_counter()
                print(f"{name}: {rows[-1][1]:.2f} s", file=sys.stderr, flush=True)

            schema = kept.build_schema(con, cur, "default", horizon, on_fact, shares)
        cur.execute(f"DROP SCHEMA {schema} CASCADE")
        cur.close()
    finally:
        con.close()
    return rows


def report(rows: list[tuple[str, float, int, int]]) -> str:
    total = sum(r[1] for r in rows)
    body = [
        [name, fmt_s(s), f"{rss / 1e9:.2f}", f"{spill / 1e9:.2f}"] for name, s, rss, spill in rows
    ]
    body.append(["**whole build**", f"**{fmt_s(total)}**",
                 f"{max(r[2] for r in rows) / 1e9:.2f}", f"{max(r[3] for r in rows) / 1e9:.2f}"])  # fmt: skip
    return table(["fact", "seconds", "peak memory GB", "spill peak GB"], body, "lrrr")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--memory-limit", default="", help="CXPORT_MEMORY_LIMIT's value")
    parser.add_argument("--shares", type=int, help="shares of the conversations (default: chosen)")
    parser.add_argument("--output", type=Path, help="write the Markdown here too")
    args = parser.parse_args(argv)
    if not args.db.exists():
        raise SystemExit(f"no store at {args.db}")
    text = report(profile_build(args.db, args.memory_limit, args.shares))
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
