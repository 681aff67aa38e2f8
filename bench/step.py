"""One measurement, in a process of its own: `python -m bench.step STEP [options]`.

`bench/run.py` starts one of these per run of each step and reads the
`Measurement` it prints (see `bench/common.py`). Steps:

- `simulate`: the simulator writes NDJSON;
- `ingest`: `ingest_files` into a new store;
- `facts`: the kept derived facts built in that store (what `cxport ingest`
  does after its batches; the exports measured after it read them);
- `read-json`: the floor of ingest (DuckDB's plain read_json);
- `export`: one export through the runner, as the CLI runs it;
- `export-all`: every registered export, one after another, on one store;
- `copy`: the floor of a row export (a plain COPY of its rows and columns);
- `group-floor`: the floor of an aggregate export (a plain GROUP BY over the
  kept rows it reads for its range, to CSV);
- `work-floor`: the proposed floor of an aggregate export (the GROUP BYs computing
  its own aggregates from those rows, `AGGREGATE_WORK`);
- `pandas`: the pandas script a user would otherwise write.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from bench.common import (
    Measurement,
    copy_floor,
    emit,
    group_floor,
    peak_rss,
    read_json_floor,
    stopwatch,
)


def _fresh(db: Path) -> None:
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)


def simulate(args: argparse.Namespace) -> Measurement:
    from cxport.simulate import simulate as run_simulation

    out = Path(args.ndjson)
    with stopwatch() as t:
        run_simulation(
            out,
            seed=args.seed,
            conversations=args.conversations,
            start=dt.date.fromisoformat(args.start),
            days=args.days,
        )
    with out.open("rb") as f:
        records = sum(1 for _ in f)
    return Measurement(
        "simulate", t[0], peak_rss(), out_bytes=out.stat().st_size, rows=records, cpu_seconds=t[1]
    )


def ingest(args: argparse.Namespace) -> Measurement:
    from cxport.ingest import ingest_files
    from cxport.store import open_store, record_counts

    ndjson, db = Path(args.ndjson), Path(args.db)
    _fresh(db)
    con = open_store(db)
    with stopwatch() as t:
        ingest_files(con, [str(ndjson)], workspace="default")
        con.close()
    con = open_store(db, read_only=True)
    stored = sum(record_counts(con).values())
    con.close()
    return Measurement(
        "ingest",
        t[0],
        peak_rss(),
        in_bytes=ndjson.stat().st_size,
        out_bytes=db.stat().st_size,
        rows=stored,
        cpu_seconds=t[1],
    )


def facts(args: argparse.Namespace) -> Measurement:
    from cxport.exports.kept import refresh
    from cxport.store import open_store

    db = Path(args.db)
    con = open_store(db)
    with stopwatch() as t:
        found, _ = refresh(con, "default", force=True)  # each run builds them anew
        con.close()
    if found is None:
        raise SystemExit("facts: nothing was built (no records)")
    return Measurement("facts", t[0], peak_rss(), out_bytes=db.stat().st_size, cpu_seconds=t[1])


def _request(args: argparse.Namespace, export: str):  # type: ignore[no-untyped-def]
    from cxport.exports import ExportRequest

    return ExportRequest(
        export=export,
        date_from=dt.date.fromisoformat(args.date_from),
        date_to=dt.date.fromisoformat(args.date_to),
        tz=args.tz,
        as_of=dt.datetime.fromisoformat(args.as_of),
        request_id="bench",
    )


def export(args: argparse.Namespace) -> Measurement:
    from cxport.exports import run_export
    from cxport.exports.runner import export_def
    from cxport.store import open_store

    con = open_store(args.db, read_only=True)
    with stopwatch() as t:
        result = run_export(con, _request(args, args.export), args.output)
    con.close()
    return Measurement(
        f"export:{args.export}",
        t[0],
        peak_rss(),
        out_bytes=result.bytes,
        rows=result.rows,
        columns=len(export_def(args.export).columns),
        cpu_seconds=t[1],
    )


def export_all(args: argparse.Namespace) -> Measurement:
    from cxport.exports import run_exports
    from cxport.exports.defs import EXPORTS
    from cxport.store import open_store

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = open_store(args.db, read_only=True)
    jobs = [(_request(args, d.name), out_dir / _request(args, d.name).file_name()) for d in EXPORTS]
    with stopwatch() as total:
        results = run_exports(con, jobs)  # one snapshot, each derived fact built once
    size = sum(r.bytes for r in results)
    rows = sum(r.rows for r in results)
    con.close()
    return Measurement(
        "export-all",
        total[0],
        peak_rss(),
        out_bytes=size,
        rows=rows,
        detail={"exports": len(EXPORTS)},
        cpu_seconds=total[1],
    )


def copy(args: argparse.Namespace) -> Measurement:
    return copy_floor(Path(args.csv), Path(args.output))


def group_floor_step(args: argparse.Namespace, work: bool = False) -> Measurement:
    request = _request(args, args.export)
    return group_floor(
        Path(args.db),
        args.export,
        request.start,
        request.end,
        request.as_of_utc(),
        Path(args.output),
        work=work,
    )


def work_floor_step(args: argparse.Namespace) -> Measurement:
    return group_floor_step(args, work=True)


def read_json(args: argparse.Namespace) -> Measurement:
    return read_json_floor(Path(args.ndjson), Path(args.db))


def pandas(args: argparse.Namespace) -> Measurement:
    import pandas as pd

    from bench.pandas_baseline import resolved_conversation_metrics

    ndjson = Path(args.ndjson)
    with stopwatch() as t:
        out = resolved_conversation_metrics(
            str(ndjson),
            dt.date.fromisoformat(args.date_from),
            dt.date.fromisoformat(args.date_to),
            args.tz,
            pd.Timestamp(args.as_of).tz_convert(dt.UTC),
        )
        out.to_csv(args.output)
    return Measurement(
        "pandas",
        t[0],
        peak_rss(),
        in_bytes=ndjson.stat().st_size,
        out_bytes=Path(args.output).stat().st_size,
        rows=len(out),
        columns=len(out.columns) + 1,
        cpu_seconds=t[1],
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m bench.step", description=__doc__.splitlines()[0])
    steps = top.add_subparsers(dest="step", required=True)

    def request_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--from", dest="date_from", required=True)
        p.add_argument("--to", dest="date_to", required=True)
        p.add_argument("--tz", required=True)
        p.add_argument("--as-of", required=True)

    p = steps.add_parser("simulate")
    p.add_argument("--ndjson", required=True)
    p.add_argument("--conversations", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", required=True)
    p.add_argument("--days", type=int, required=True)
    p.set_defaults(run=simulate)

    for name, run in (("ingest", ingest), ("read-json", read_json)):
        p = steps.add_parser(name)
        p.add_argument("--ndjson", required=True)
        p.add_argument("--db", required=True)
        p.set_defaults(run=run)

    p = steps.add_parser("facts")
    p.add_argument("--db", required=True)
    p.set_defaults(run=facts)

    for name, run in (
        ("export", export),
        ("group-floor", group_floor_step),
        ("work-floor", work_floor_step),
    ):
        p = steps.add_parser(name)
        p.add_argument("--db", required=True)
        p.add_argument("--export", required=True)
        p.add_argument("--output", required=True)
        request_options(p)
        p.set_defaults(run=run)

    p = steps.add_parser("export-all")
    p.add_argument("--db", required=True)
    p.add_argument("--out-dir", required=True)
    request_options(p)
    p.set_defaults(run=export_all)

    p = steps.add_parser("copy")
    p.add_argument("--csv", required=True)
    p.add_argument("--output", required=True)
    p.set_defaults(run=copy)

    p = steps.add_parser("pandas")
    p.add_argument("--ndjson", required=True)
    p.add_argument("--output", required=True)
    request_options(p)
    p.set_defaults(run=pandas)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    emit(args.run(args))


if __name__ == "__main__":
    main()
