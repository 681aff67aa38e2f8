"""Small helpers the tests share: records in, export text out (real store, real files)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson

from cxport.exports import ExportRequest, run_export
from cxport.store import open_store

# The spec's worked example (../shared beside the repo, as on CI).
EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "spec" / "examples"
EXAMPLE = EXAMPLES / "basic.ndjson"


def write_ndjson(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def ingest_records(db: Path, records: list[dict[str, Any]], workspace: str = "default") -> None:
    src = write_ndjson(db.with_suffix(f".{len(records)}.ndjson"), records)
    ingest_file(db, src, workspace)


def export_text(
    db: Path,
    export: str,
    date_from: str,
    date_to: str,
    *,
    tz: str = "UTC",
    as_of: str = "2100-01-01T00:00:00Z",
    channels: tuple[str, ...] = (),
    lang: str = "en",
    workspace: str = "default",
    out: Path | None = None,
) -> str:
    """Run an export through the real runner and return the CSV text."""
    out = out or db.with_name(f"{export}.csv")
    request = ExportRequest(
        export=export,
        date_from=dt.date.fromisoformat(date_from),
        date_to=dt.date.fromisoformat(date_to),
        tz=tz,
        channels=channels,
        as_of=dt.datetime.fromisoformat(as_of),
        lang=lang,
        workspace=workspace,
    )
    con = open_store(db)
    try:
        run_export(con, request, out)
    finally:
        con.close()
    return out.read_text(encoding="utf-8")


def rows(csv_text: str) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(csv_text, newline="")))


def fact_rows(
    db: Path,
    facts: tuple[str, ...],
    query: str,
    date_from: str = "2024-01-01",
    date_to: str = "2024-12-31",
    *,
    tz: str = "UTC",
    as_of: str = "2100-01-01T00:00:00Z",
    channels: tuple[str, ...] = (),
    workspace: str = "default",
) -> list[tuple[Any, ...]]:
    """Build derived facts for a request (as an export would) and return `query`'s rows."""
    from cxport.exports.facts import define_facts
    from cxport.exports.runner import prepare

    request = ExportRequest(
        export="facts",
        date_from=dt.date.fromisoformat(date_from),
        date_to=dt.date.fromisoformat(date_to),
        tz=tz,
        channels=channels,
        as_of=dt.datetime.fromisoformat(as_of),
        workspace=workspace,
    )
    con = open_store(db)
    try:
        cur = con.cursor()
        ctx = prepare(cur, request, request.as_of_utc())
        define_facts(cur, facts, ctx)
        return cur.execute(query).fetchall()
    finally:
        con.close()


def stored_differences(con: Any, one: str, other: str) -> dict[str, int]:
    """Per stored kept fact, the rows of schema `one`'s table not in `other`'s,
    and the other way round (`EXCEPT ALL`, so duplicates count): {} when equal."""
    from cxport.exports import kept

    out = {}
    for name in sorted(kept.stored_facts()):
        a, b = f"SELECT * FROM {one}.{name}", f"SELECT * FROM {other}.{name}"
        (n,) = con.execute(
            f"SELECT (SELECT count(*) FROM ({a} EXCEPT ALL {b})) +"
            f" (SELECT count(*) FROM ({b} EXCEPT ALL {a}))"
        ).fetchone() or (0,)
        if n:
            out[name] = int(n)
    return out


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


# Golden scenarios: tests/golden/<group>/<scenario>/{records.ndjson, requests.json,
# <request>/<export>.csv}; each request names from, to, tz, as_of and maybe
# channels and lang.


def golden_files(group: Path) -> list[Path]:
    return sorted(group.glob("*/*/*.csv"))


def golden_stores(group: Path, root: Path) -> dict[str, Path]:
    """One store per scenario of a golden group, in folders under `root`."""
    out = {}
    for scenario in sorted(p for p in group.iterdir() if p.is_dir()):
        db = root / scenario.name / "store.duckdb"
        db.parent.mkdir(parents=True)
        ingest_records(db, read_ndjson(scenario / "records.ndjson"))
        out[scenario.name] = db
    return out


def golden_export(expected: Path, stores: dict[str, Path], out: Path) -> str:
    """The export a golden file expects, as cxport writes it now."""
    import json

    scenario = expected.parent.parent
    request = json.loads((scenario / "requests.json").read_text())[expected.parent.name]
    return export_text(
        stores[scenario.name],
        expected.stem,
        request["from"],
        request["to"],
        tz=request["tz"],
        as_of=request["as_of"],
        channels=tuple(request.get("channels", ())),
        lang=request.get("lang", "en"),
        out=out,
    )


def ingest_file(db: Path, source: Path, workspace: str = "default") -> Path:
    from cxport.ingest import ingest_files

    con = open_store(db)
    try:
        ingest_files(con, [str(source)], workspace=workspace)
    finally:
        con.close()
    return db


def simulated_store(
    folder: Path, *, seed: int, conversations: int, start: dt.date, days: int
) -> Path:
    """A store holding one simulated workspace (the records kept beside it)."""
    from cxport.simulate import simulate

    source = folder / "sim.ndjson"
    simulate(source, seed=seed, conversations=conversations, start=start, days=days)
    return ingest_file(folder / "store.duckdb", source)


def simulated_records(
    *, seed: int, conversations: int, start: dt.date, days: int
) -> list[dict[str, Any]]:
    """The records of one simulated workspace, as the simulator writes them."""
    import tempfile

    from cxport.simulate import simulate

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sim.ndjson"
        simulate(path, seed=seed, conversations=conversations, start=start, days=days)
        return read_ndjson(path)


def live_at_each_file(plan: Any) -> list[set[str]]:
    """The facts `plan.stages` holds while each file of `plan` is written."""
    from cxport.exports.plan import stages

    live: set[str] = set()
    held = []
    for stage in stages(plan):
        live |= {s.name for s in stage.steps}
        held.append(set(live))
        live -= {s.name for s in stage.done}
    return held
