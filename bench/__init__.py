"""The benchmark suite: `uv run python bench/run.py` (see bench/run.py and docs/performance.md)."""
