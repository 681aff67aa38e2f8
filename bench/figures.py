"""Reading a benchmark's `results.json`: the figures of a step, pandas extrapolated, growth.

Shared by the report (`bench/report.py`), the targets (`bench/targets.py`)
and the chart (`bench/chart.py`), with the way numbers are written.
"""

from __future__ import annotations

import math
from typing import Any

COMPARED = "resolved-conversations"  # the export the pandas script is compared with


def steps_of(size: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in size.get("steps", {}).items() if "median_s" in v}


def median(size: dict[str, Any], step: str, of: str = "median_s") -> float | None:
    """A step's median wall seconds at a size (`of="median_cpu_s"`: its CPU seconds)."""
    figures = steps_of(size).get(step)
    return figures.get(of) if figures else None


def ordered_sizes(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [results["sizes"][k] for k in sorted(results["sizes"], key=int)]


def step_names(results: dict[str, Any]) -> list[str]:
    """Every step measured at some size, in the order the suite runs them."""
    names: list[str] = []
    for size in ordered_sizes(results):
        for name in steps_of(size):
            if name not in names:
                names.append(name)
    return names


def floor_of(step: str) -> str | None:
    if step == "ingest":
        return "read_json_floor"
    if step.startswith("export:"):
        return "floor:" + step.split(":", 1)[1]
    return None


def floor_kind(figures: dict[str, Any]) -> str:
    """What a floor's figures measured: `COPY` (a row export's) or `GROUP BY` (an aggregate's)."""
    return str(figures.get("detail", {}).get("floor", "COPY"))


def pandas_figures(results: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Pandas time and memory per size: measured, or extrapolated linearly from the largest measured."""
    measured = {
        int(k): s["steps"]["pandas"]
        for k, s in results["sizes"].items()
        if "median_s" in s.get("steps", {}).get("pandas", {})
    }
    out: dict[int, dict[str, Any]] = {}
    for key in sorted(results["sizes"], key=int):
        n = int(key)
        if n in measured:
            out[n] = {
                "s": measured[n]["median_s"],
                "peak": measured[n]["peak_rss"],
                "extrapolated": False,
            }
            continue
        below = [m for m in measured if m < n]
        if below:
            m = max(below)
            scale = n / m
            out[n] = {
                "s": measured[m]["median_s"] * scale,
                "peak": measured[m]["peak_rss"] * scale,
                "extrapolated": True,
                "from": m,
            }
    return out


def exponent(t1: float | None, t2: float | None, n1: int, n2: int) -> float | None:
    """k in time ∝ size^k between two sizes."""
    if not t1 or not t2 or t1 <= 0 or t2 <= 0 or n1 == n2:
        return None
    return math.log(t2 / t1) / math.log(n2 / n1)


# --- formatting ------------------------------------------------------------------------------


def fmt_s(s: float | None) -> str:
    if s is None:
        return "–"
    if s >= 100:
        return f"{s:,.0f}"
    if s >= 10:
        return f"{s:.1f}"
    if s >= 0.1:
        return f"{s:.2f}"
    return f"{s:.3f}"


def fmt_mb(b: float | None) -> str:
    if b is None:
        return "–"
    mb = b / 1e6
    return f"{mb:,.0f}" if mb >= 10 else f"{mb:.1f}" if mb >= 0.1 else f"{mb:.2f}"


def fmt_x(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}×" if x >= 100 else f"{x:.1f}×"


def fmt_n(n: int | None) -> str:
    return "–" if n is None else f"{n:,}".replace(",", " ")


def table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


LABELS = {
    "simulate": "simulate",
    "read_json_floor": "floor: DuckDB read_json",
    "ingest": "ingest",
    "facts": "kept facts (built after ingest)",
    "export-all": "all exports together",
    "pandas": "pandas script (resolved metrics)",
}


def label(step: str) -> str:
    if step.startswith("export:"):
        return "export " + step.split(":", 1)[1]
    if step.startswith("floor:"):
        return "floor of " + step.split(":", 1)[1]
    return LABELS.get(step, step)
