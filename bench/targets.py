"""The issue's targets, checked against a run's figures.

At 1 000 000 conversations on this 2-core machine (or, in a smaller run, at
its largest size, said so in the report).
"""

from __future__ import annotations

from typing import Any

from bench.figures import (
    COMPARED,
    exponent,
    floor_kind,
    floor_of,
    fmt_mb,
    fmt_s,
    fmt_x,
    label,
    median,
    ordered_sizes,
    pandas_figures,
    steps_of,
)

# The targets of the issue, at 1 000 000 conversations on this 2-core machine.
TARGET_SIZE = 1_000_000
INGEST_VS_READ = 0.5  # ingest throughput ≥ 50 % of the raw read
EXPORT_VS_FLOOR = 3.0  # each export ≤ 3× its floor
ALL_TWELVE_S = 60.0
PEAK_BYTES = 4e9
PANDAS_FACTOR = 50.0
LINEAR_EXPONENT = 1.2  # "near linear": time ∝ size^k with k at most this


def _versus_floors(at: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """Each export ≤ 3× its floor: the row exports against their COPY, the aggregate
    exports against their GROUP BY (`bench/common.py`), one line each."""
    steps = steps_of(at)
    ratios: dict[str, dict[str, float]] = {}
    for name in steps:
        floor = steps.get(floor_of(name) or "") if name.startswith("export:") else None
        if floor and floor["median_s"] > 0:
            kind = floor_kind(floor)
            ratios.setdefault(kind, {})[name] = steps[name]["median_s"] / floor["median_s"]
    out: list[tuple[str, str, bool | None]] = []
    for kind, of in sorted(ratios.items()):
        worst = max(of, key=lambda name: of[name])
        over = sum(1 for r in of.values() if r > EXPORT_VS_FLOOR)
        out.append(
            (
                f"each export ≤ 3× its floor ({kind}: {len(of)} exports)",
                f"{over} over; worst {label(worst)} {fmt_x(of[worst])}",
                over == 0,
            )
        )
    return out


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) at the target size, or at the largest size measured."""
    sizes = ordered_sizes(results)
    if not sizes:
        return []
    at = next((s for s in sizes if s["conversations"] == TARGET_SIZE), sizes[-1])
    n = at["conversations"]
    steps = steps_of(at)
    out: list[tuple[str, str, bool | None]] = []

    ingest, read = median(at, "ingest"), median(at, "read_json_floor")
    if ingest and read:
        share = read / ingest
        out.append(
            ("ingest ≥ 50 % of the raw read's throughput", f"{share:.0%}", share >= INGEST_VS_READ)
        )
        facts = median(at, "facts")
        if facts:  # what `cxport ingest` also does: no target of its own, said beside
            both = read / (ingest + facts)
            out.append(
                (
                    "(ingest and the kept facts after it, for comparison)",
                    f"{both:.0%} ({fmt_s(ingest)} + {fmt_s(facts)} s)",
                    None,
                )
            )
    out += _versus_floors(at)
    every = steps.get("export-all")
    if every:
        count = every["detail"].get("exports", 0)
        out.append(
            (
                "all twelve ≤ 60 s together",
                f"{fmt_s(every['median_s'])} s for {count}",
                every["median_s"] <= ALL_TWELVE_S if count == 12 else None,
            )
        )
    cxport_steps = {
        k: v
        for k, v in steps.items()
        if not k.startswith("floor:") and k not in ("read_json_floor", "pandas")
    }
    if cxport_steps:
        top = max(cxport_steps, key=lambda k: cxport_steps[k]["peak_rss"])
        peak = cxport_steps[top]["peak_rss"]
        out.append(("peak memory ≤ 4 GB", f"{fmt_mb(peak)} MB ({label(top)})", peak <= PEAK_BYTES))
    p = pandas_figures(results).get(n)
    export = median(at, f"export:{COMPARED}")
    if p and export:
        factor = p["s"] / export
        note = " (pandas extrapolated)" if p["extrapolated"] else ""
        out.append(
            (
                "≥ 50× faster than the pandas script",
                f"{fmt_x(factor)}{note}",
                factor >= PANDAS_FACTOR,
            )
        )
    if len(sizes) >= 2:
        prev = sizes[-2]
        worst_k = None
        for name in steps:
            if name.startswith("floor:") or name in ("pandas", "read_json_floor"):
                continue
            k = exponent(median(prev, name), median(at, name), prev["conversations"], n)
            if k is not None and (worst_k is None or k > worst_k[1]):
                worst_k = (name, k)
        if worst_k:
            out.append(
                (
                    "growth near linear (time ∝ size^k, k ≤ 1.2)",
                    f"worst k = {worst_k[1]:.2f} ({label(worst_k[0])})",
                    worst_k[1] <= LINEAR_EXPONENT,
                )
            )
    return out
