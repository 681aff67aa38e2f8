"""`cxport.simulate.simulate`: reproducible, streamed, gzip-aware, tunable, ingestible."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import stat
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import fields
from pathlib import Path

import orjson
import pytest

from cxport.errors import UsageError
from cxport.simulate import SimOptions, simulate

SMALL = 400


def types_in(path: Path) -> Counter[str]:
    return Counter(orjson.loads(line)["type"] for line in path.read_bytes().splitlines())


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.ndjson", tmp_path / "b.ndjson", tmp_path / "c.ndjson"
    simulate(a, seed=7, conversations=SMALL, days=10)
    simulate(b, seed=7, conversations=SMALL, days=10)
    simulate(c, seed=8, conversations=SMALL, days=10)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_gzip_when_the_name_ends_in_gz(tmp_path: Path) -> None:
    plain, packed = tmp_path / "w.ndjson", tmp_path / "w.ndjson.gz"
    simulate(plain, conversations=SMALL, days=7)
    simulate(packed, conversations=SMALL, days=7)
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert packed.stat().st_size < plain.stat().st_size / 4
    assert not list(tmp_path.glob("*.partial"))


def test_dash_writes_to_standard_output(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    file = tmp_path / "w.ndjson"
    simulate(file, conversations=50, days=3)
    capfdbinary.readouterr()
    simulate("-", conversations=50, days=3)
    assert capfdbinary.readouterr().out == file.read_bytes()


def test_summary_counts_what_was_written(tmp_path: Path) -> None:
    out = tmp_path / "w.ndjson"
    summary = simulate(out, seed=3, conversations=SMALL, start=dt.date(2025, 2, 24), days=9)
    assert summary.records == dict(types_in(out))
    assert summary.total == sum(summary.records.values())
    assert (summary.seed, summary.start, summary.days, summary.conversations) == (
        3,
        dt.date(2025, 2, 24),
        9,
        SMALL,
    )
    first = orjson.loads(out.read_bytes().splitlines()[0])
    assert first["type"] == "team" and first["at"].startswith("2025-01-25")


def test_start_is_fixed_by_default(tmp_path: Path) -> None:
    out = tmp_path / "w.ndjson"
    simulate(out, conversations=20, days=2)
    times = [orjson.loads(line)["at"] for line in out.read_bytes().splitlines()]
    assert max(times) < "2024-05-03"


def test_no_conversations_still_writes_the_workspace(tmp_path: Path) -> None:
    out = tmp_path / "w.ndjson"
    summary = simulate(out, conversations=0, days=3)
    assert "message" not in summary.records
    assert summary.records["agent"] > 0 and summary.records["presence"] > 0


def test_a_failed_run_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "w.ndjson"
    with pytest.raises(UsageError):
        simulate(out, days=0)
    with pytest.raises(UsageError):
        simulate(out, conversations=-1)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "options",
    [
        {"va_resolve_rate": 1.5},
        {"utilization_target": 0.0},
        {"agents_per_team": 0},
        {"pending_rate": 0.7, "leave_new_rate": 0.4},
    ],
)
def test_bad_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        SimOptions(**options)  # type: ignore[arg-type]


def test_rates_steer_behaviour(tmp_path: Path) -> None:
    def statuses(options: SimOptions) -> Counter[str]:
        out = tmp_path / "w.ndjson"
        simulate(out, conversations=SMALL, days=7, options=options)
        rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
        return Counter(
            r.get("resolved_by", r["type"]) for r in rows if r["type"] in ("status_change", "csat")
        )

    no_bots_no_csat = statuses(SimOptions(va_resolve_rate=0.0, csat_rate=0.0))
    assert no_bots_no_csat["VIRTUAL_AGENT"] == 0 and no_bots_no_csat["csat"] == 0
    bots = statuses(SimOptions(va_resolve_rate=1.0))
    assert bots["VIRTUAL_AGENT"] > SMALL * 0.3


def test_entity_changes_can_be_turned_off(tmp_path: Path) -> None:
    out = tmp_path / "w.ndjson"
    simulate(out, conversations=SMALL, days=7, options=SimOptions(entity_changes=False))
    teams = [
        orjson.loads(line) for line in out.read_bytes().splitlines() if b'"type":"team"' in line
    ]
    assert len(teams) == len({t["team_id"] for t in teams})


def test_staff_grows_with_volume(tmp_path: Path) -> None:
    small = simulate(tmp_path / "s.ndjson", conversations=100, days=1).records["agent"]
    big = simulate(tmp_path / "b.ndjson", conversations=6000, days=1).records["agent"]
    assert big > 3 * small


def test_ingest_accepts_every_record(tmp_path: Path) -> None:
    ingest = pytest.importorskip("cxport.ingest")
    from cxport.store import open_store

    out = tmp_path / "w.ndjson.gz"
    summary = simulate(out, conversations=1500)
    con = open_store(tmp_path / "store.duckdb")
    result = ingest.ingest_files(con, [str(out)], now=dt.datetime(2024, 7, 1, tzinfo=dt.UTC))
    assert result.stored == summary.records
    assert (result.duplicates, result.rejected, result.warning_count) == (0, 0, 0)


def test_every_option_is_documented_with_its_default() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "simulator.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(" `"): line.split("|")[2].strip()
        for line in doc.splitlines()
        if line.startswith("| `")
    }
    for f in fields(SimOptions):
        assert rows.get(f.name) == str(f.default), f.name


def test_a_pipe_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    # Renaming a finished temporary file over the target is right for regular
    # files only: over a pipe or a device (/dev/null) it would replace it.
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    simulate(pipe, conversations=20, days=2)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert received and received[0].count(b"\n") > 100
    simulate(tmp_path / "file.ndjson", conversations=20, days=2)
    assert received[0] == (tmp_path / "file.ndjson").read_bytes()


def test_a_run_failing_midway_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxport.simulate.conversations import Operation

    arrive = Operation.arrive
    arrivals = Counter[str]()

    def failing(self: Operation, t: int, ch: object) -> None:
        arrivals[str(id(self))] += 1
        if arrivals[str(id(self))] == 2000:
            raise OSError("disk full")
        arrive(self, t, ch)  # type: ignore[arg-type]

    monkeypatch.setattr(Operation, "arrive", failing)
    for name in ("w.ndjson", "w.ndjson.gz"):
        arrivals.clear()
        with pytest.raises(OSError, match="disk full"):
            simulate(tmp_path / name, conversations=3000)
    assert list(tmp_path.iterdir()) == []


def test_same_bytes_across_processes_with_other_hash_seeds(tmp_path: Path) -> None:
    # Nothing may depend on set or dict order of str hashes (PYTHONHASHSEED).
    script = "import sys; from cxport.simulate import simulate; simulate(sys.argv[1], conversations=300, days=5)"
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"w{hash_seed}.ndjson"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
