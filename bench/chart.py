"""A small chart of the results: median time against size, one line per export.

    uv run python bench/chart.py bench/out/latest/results.json out.png

Log-log axes, so a straight line of slope 1 is linear growth; ingest, all
exports together and the pandas script (dashed where extrapolated) are drawn
for scale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import median, ordered_sizes, pandas_figures, step_names


def draw(results: dict[str, Any], path: Path) -> bool:
    """Write the chart to `path`; False when there is nothing to draw (fewer than one size)."""
    sizes = ordered_sizes(results)
    names = [
        n for n in step_names(results) if n.startswith("export:") or n in ("ingest", "export-all")
    ]
    if not sizes or not names:
        return False
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=110)
    cmap = plt.get_cmap("tab20")
    for i, name in enumerate(n for n in names if n.startswith("export:")):
        points = [(s["conversations"], median(s, name)) for s in sizes]
        xs, ys = (
            zip(*[(n, t) for n, t in points if t], strict=False)
            if any(t for _, t in points)
            else ((), ())
        )
        ax.plot(
            xs,
            ys,
            marker="o",
            markersize=3,
            linewidth=1.2,
            color=cmap(i % 20),
            label=name.split(":", 1)[1],
        )
    for name, style in (("ingest", "k-"), ("export-all", "k--")):
        points = [(s["conversations"], median(s, name)) for s in sizes if median(s, name)]
        if points:
            xs, ys = zip(*points, strict=False)
            ax.plot(
                xs, ys, style, linewidth=2, label="ingest" if name == "ingest" else "all exports"
            )
    pandas = pandas_figures(results)
    if pandas:
        measured = [(n, p["s"]) for n, p in sorted(pandas.items()) if not p["extrapolated"]]
        if measured:
            xs, ys = zip(*measured, strict=False)
            ax.plot(xs, ys, color="darkred", linestyle="-.", linewidth=2.5, label="pandas script")
        guessed = [(n, p["s"]) for n, p in sorted(pandas.items()) if p["extrapolated"]]
        if guessed and measured:
            xs, ys = zip(*([measured[-1], *guessed]), strict=False)
            ax.plot(
                xs, ys, color="darkred", linewidth=2.5, linestyle=":", label="pandas (extrapolated)"
            )
    # A line of slope 1 (time ∝ size) through the smallest size's "all exports", for the eye.
    first = median(sizes[0], "export-all")
    if first and len(sizes) > 1:
        n0, n1 = sizes[0]["conversations"], sizes[-1]["conversations"]
        ax.plot([n0, n1], [first, first * n1 / n0], color="0.6", linewidth=1, linestyle=":",
                label="linear growth")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("simulated conversations")
    ax.set_ylabel("median seconds")
    ax.set_xticks([s["conversations"] for s in sizes])
    ax.set_xticklabels([f"{s['conversations']:,}".replace(",", " ") for s in sizes])
    ax.grid(True, which="major", alpha=0.3)
    tz = results.get("request", {}).get("tz", "")
    ax.set_title(f"cxport: time vs size (one month, CSV, {tz})", fontsize=10)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("png", type=Path)
    args = parser.parse_args(argv)
    draw(json.loads(args.results.read_text()), args.png)


if __name__ == "__main__":
    main()
