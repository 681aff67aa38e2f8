"""Engines: each runs a plan (DuckDB, Spark)."""
