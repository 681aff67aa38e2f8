"""Scheduled exports: the windows (hour, day, ISO week of a zone, across DST changes),
and `cxport schedule tick` on a real store and control database delivering to a
folder: each period once, oldest first, caught up after downtime; the delivered file is
`cxport export`'s bytes for the same window and `as_of`; its manifest tells what it
covers."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import simulated_store
from service_support import cxport

from cxport.jobs.schedules import (
    due_periods,
    first_period_of_day,
    last_complete,
    next_period,
    period_of,
)

UTC = dt.UTC
NO_LATENESS = dt.timedelta(0)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args)


# -- windows ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "hours", "first_utc"),
    [
        ("Europe/Berlin", dt.date(2024, 3, 31), 23, utc(2024, 3, 30, 23)),
        ("Europe/Berlin", dt.date(2024, 10, 27), 25, utc(2024, 10, 26, 22)),
        # Brazil's DST began at midnight (00:00 → 01:00): the day starts at 01:00 local.
        ("America/Sao_Paulo", dt.date(2018, 11, 4), 23, utc(2018, 11, 4, 3)),
        ("America/Sao_Paulo", dt.date(2019, 2, 16), 25, utc(2019, 2, 16, 2)),
        ("Europe/Berlin", dt.date(2024, 6, 1), 24, utc(2024, 5, 31, 22)),
        ("Asia/Kolkata", dt.date(2024, 1, 1), 24, utc(2023, 12, 31, 18, 30)),
    ],
)
def test_a_day_and_its_hours_across_dst(
    tz: str, day: dt.date, hours: int, first_utc: dt.datetime
) -> None:
    window = first_period_of_day("day", tz, day)
    assert window.start == first_utc
    assert window.hours == hours
    assert (window.first_day, window.last_day) == (day, day)
    hourly = due_periods("hour", tz, window.start, window.end, NO_LATENESS, limit=100)
    assert len(hourly) == hours
    assert hourly[0].start == window.start and hourly[-1].end == window.end
    assert all(a.end == b.start for a, b in itertools.pairwise(hourly))
    assert all(h.hours == 1 for h in hourly)
    assert all(h.local_start.minute == 0 and h.first_day == day for h in hourly)
    # any instant of the day is in the day's period and in one of its hours
    for h in hourly:
        probe = h.start + dt.timedelta(minutes=59)
        assert period_of("day", tz, probe) == window
        assert period_of("hour", tz, probe) == h


def test_the_repeated_hour_of_a_fall_back_is_its_own_period() -> None:
    # Berlin 2024-10-27: 02:00-03:00 happens twice (CEST, then CET).
    first = period_of("hour", "Europe/Berlin", utc(2024, 10, 27, 0, 30))
    second = next_period(first)
    assert first.local_start.strftime("%H:%M%z") == "02:00+0200"
    assert second.local_start.strftime("%H:%M%z") == "02:00+0100"
    assert second.start - first.start == dt.timedelta(hours=1)


def test_weeks_are_iso_weeks_of_the_zone_and_may_have_167_or_169_hours() -> None:
    spring = period_of("week", "Europe/Berlin", utc(2024, 3, 30, 12))
    assert (spring.first_day, spring.last_day) == (dt.date(2024, 3, 25), dt.date(2024, 3, 31))
    assert spring.hours == 167
    autumn = period_of("week", "Europe/Berlin", utc(2024, 10, 21))
    assert autumn.hours == 169 and autumn.first_day.isoweekday() == 1
    assert next_period(spring).first_day == dt.date(2024, 4, 1)
    # Sao Paulo's spring week of 2018 (DST from Sunday 2018-11-04)
    sp = period_of("week", "America/Sao_Paulo", utc(2018, 11, 3))
    assert sp.hours == 167 and sp.last_day == dt.date(2018, 11, 4)


def test_a_period_is_due_once_complete_and_past_its_lateness() -> None:
    late = dt.timedelta(minutes=5)
    tz = "Europe/Berlin"
    # 00:03 local on April 1st: March 31st ended 3 minutes ago, its lateness not yet passed
    now = utc(2024, 3, 31, 22, 3)
    assert last_complete("day", tz, now, late).first_day == dt.date(2024, 3, 30)
    assert last_complete("day", tz, now + dt.timedelta(minutes=2), late).first_day == dt.date(
        2024, 3, 31
    )
    since = first_period_of_day("day", tz, dt.date(2024, 3, 29)).start
    due = due_periods("day", tz, since, now, late)
    assert [w.first_day for w in due] == [dt.date(2024, 3, 29), dt.date(2024, 3, 30)]
    due = due_periods("day", tz, since, now + dt.timedelta(minutes=2), late)
    assert [w.first_day for w in due][-1] == dt.date(2024, 3, 31)
    assert due_periods("hour", tz, since, since + dt.timedelta(minutes=64), late) == []
    assert len(due_periods("hour", tz, since, since + dt.timedelta(minutes=65), late)) == 1


# -- ticking and delivering to a folder ---------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sched-store")
    db = simulated_store(folder, seed=3, conversations=150, start=dt.date(2024, 3, 29), days=4)
    return db


@pytest.fixture
def db(store: Path, tmp_path: Path) -> Path:
    """The store, and a fresh control database with an admin, for one test."""
    import shutil

    copy = tmp_path / "store.duckdb"
    shutil.copy(store, copy)
    cxport("user", "add", "--db", str(copy), "--email", "admin@x", "--role", "admin")
    return copy


def tick(db: Path, now: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "cxport", "schedule", "tick", "--db", str(db), "--now", now],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return done


def runs(db: Path) -> list[tuple[str, str, str]]:
    """(schedule name, period start, job state) of every run, in the order they were made."""
    with sqlite3.connect(f"{db}.control.sqlite") as con:
        return con.execute(
            "SELECT s.name, j.period_start, j.state FROM cx_export_requests j"
            " JOIN cx_schedules s ON s.id = j.schedule_id ORDER BY j.created_at, j.id"
        ).fetchall()


def delivered(folder: Path) -> dict[str, tuple[Path, dict[str, object]]]:
    """{window's local start: (file, manifest)} of a destination folder."""
    out = {}
    for manifest in sorted(folder.rglob("*.manifest.json")):
        body = json.loads(manifest.read_text())
        file = manifest.with_name(body["file"])
        out[body["window"]["from"]] = (file, body)
    return out


def test_tick_delivers_each_complete_day_with_its_manifest_and_the_on_demand_bytes(
    db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    cxport("schedule", "add", "--db", str(db), "--name", "daily", "--export", "messages",
           "--every", "day", "--tz", "Europe/Berlin", "--since", "2024-03-30",
           "--include-content", "--to", f"file://{out}")  # fmt: skip
    done = tick(db, "2024-04-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    assert "2 delivered" in done.stderr
    files = delivered(out / "messages")
    assert sorted(files) == ["2024-03-30T00:00:00+01:00", "2024-03-31T00:00:00+01:00"]
    path, manifest = files["2024-03-31T00:00:00+01:00"]
    # the DST day: 23 hours, named with its local times, `to` exclusive
    assert path.name.startswith("default_messages_31032024000000_01042024000000_")
    assert manifest["window"] == {
        "every": "day", "from": "2024-03-31T00:00:00+01:00", "to": "2024-04-01T00:00:00+02:00",
        "from_utc": "2024-03-30T23:00:00.000Z", "to_utc": "2024-03-31T22:00:00.000Z",
    }  # fmt: skip
    data = path.read_bytes()
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["bytes"] == len(data)
    assert manifest["rows"] == len(list(csv.DictReader(io.StringIO(data.decode())))) > 0
    assert manifest["as_of"] == "2024-04-01T00:00:00.000Z"
    assert manifest["zone"] == "Europe/Berlin" and manifest["channels"] == []
    from cxport.exports.kept import definitions_hash

    assert manifest["definitions_hash"] == definitions_hash()
    assert manifest["cxport_version"]
    on_demand = tmp_path / "od.csv"
    cxport("export", "messages", "--db", str(db), "--from", "2024-03-31", "--to", "2024-03-31",
           "--tz", "Europe/Berlin", "--as-of", "2024-04-01T00:00:00Z", "--output", str(on_demand))  # fmt: skip
    assert on_demand.read_bytes() == data
    assert not list(out.rglob("*.part"))


def test_without_include_content_the_text_is_left_out(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cxport("schedule", "add", "--db", str(db), "--name", "plain", "--export", "messages",
           "--every", "day", "--tz", "UTC", "--since", "2024-03-30", "--to", f"file://{out}")  # fmt: skip
    assert tick(db, "2024-03-31T00:10:00Z").returncode == 0
    [(path, manifest)] = delivered(out / "messages").values()
    assert manifest["include_content"] is False
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert rows and all(r["Content"] == "" for r in rows)
    on_demand = tmp_path / "od.csv"
    cxport("export", "messages", "--db", str(db), "--from", "2024-03-30", "--to", "2024-03-30",
           "--as-of", "2024-03-31T00:10:00Z", "--output", str(on_demand))  # fmt: skip
    full = list(csv.DictReader(io.StringIO(on_demand.read_text())))
    assert any(r["Content"] for r in full)
    assert [{**r, "Content": ""} for r in full] == rows


def test_hours_across_a_dst_change_add_up_to_the_day(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cxport("schedule", "add", "--db", str(db), "--name", "hourly", "--export", "messages",
           "--every", "hour", "--tz", "Europe/Berlin", "--since", "2024-03-31",
           "--include-content", "--lateness", "0", "--to", f"file://{out}")  # fmt: skip
    done = tick(db, "2024-03-31T22:00:00Z")  # 00:00 of April 1st, Berlin
    assert done.returncode == 0, done.stderr
    files = delivered(out / "messages")
    assert len(files) == 23  # 02:00 does not exist on that day
    assert "2024-03-31T02:00:00+01:00" not in files
    assert "2024-03-31T03:00:00+02:00" in files
    on_demand = tmp_path / "od.csv"
    cxport("export", "messages", "--db", str(db), "--from", "2024-03-31", "--to", "2024-03-31",
           "--tz", "Europe/Berlin", "--as-of", "2024-03-31T22:00:00Z", "--output", str(on_demand))  # fmt: skip
    day = list(csv.reader(io.StringIO(on_demand.read_text(), newline="")))
    hours = []
    for path, manifest in files.values():
        lines = list(csv.reader(io.StringIO(path.read_text(), newline="")))
        assert lines[0] == day[0]  # the same header
        assert manifest["rows"] == len(lines) - 1
        hours += lines[1:]
    assert len(day) > 1
    assert sorted(hours) == sorted(day[1:])


def test_missed_runs_are_caught_up_oldest_first_and_never_twice(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cxport("schedule", "add", "--db", str(db), "--name", "daily", "--export", "resolved-conversations",
           "--every", "day", "--tz", "America/Sao_Paulo", "--since", "2024-03-29",
           "--to", f"file://{out}")  # fmt: skip
    assert tick(db, "2024-03-30T03:10:00Z").returncode == 0  # March 29th, Sao Paulo
    assert [r[1][:10] for r in runs(db)] == ["2024-03-29"]
    # down for two days: the next tick makes the two missed days, oldest first
    assert tick(db, "2024-04-01T03:10:00Z").returncode == 0
    made = runs(db)
    assert [r[1] for r in made] == [
        "2024-03-29 03:00:00.000000", "2024-03-30 03:00:00.000000", "2024-03-31 03:00:00.000000",
    ]  # fmt: skip
    assert {r[2] for r in made} == {"succeeded"}
    # ticking again at the same instant, or by two processes at once, makes nothing twice
    both = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cxport",
                "schedule",
                "tick",
                "--db",
                str(db),
                "--now",
                "2024-04-01T03:10:00Z",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in both:
        p.wait(timeout=300)
    assert runs(db) == made
    assert len(delivered(out / "resolved-conversations")) == 3


def test_a_paused_schedule_makes_nothing_and_resumes_from_the_period_in_progress(
    db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    cxport("schedule", "add", "--db", str(db), "--name", "d", "--export", "teams",
           "--every", "day", "--since", "2024-03-29", "--to", f"file://{out}")  # fmt: skip
    cxport("schedule", "pause", "--db", str(db), "d")
    assert tick(db, "2024-04-01T01:00:00Z").returncode == 0
    assert runs(db) == []
    listed = cxport("schedule", "list", "--db", str(db))
    assert "paused" in listed
    cxport("schedule", "edit", "--db", str(db), "d", "--rename", "tags-daily", "--export", "tags",
           "--tz", "America/Sao_Paulo", "--since", "2024-03-31")  # fmt: skip
    cxport("schedule", "resume", "--db", str(db), "tags-daily")
    [line] = cxport("schedule", "list", "--db", str(db)).splitlines()
    assert line.split("\t")[:5] == ["tags-daily", "active", "tags", "day", "America/Sao_Paulo"]
    # resumed now (2026 and later): the days of 2024 it was paused for are not made
    assert tick(db, "2024-04-02T12:00:00Z").returncode == 0
    assert runs(db) == []
    cxport("schedule", "delete", "--db", str(db), "tags-daily")
    assert cxport("schedule", "list", "--db", str(db)) == ""


def test_bad_schedules_are_refused_naming_the_field(db: Path) -> None:
    def add(*extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "cxport", "schedule", "add", "--db", str(db), "--name", "x",
             "--export", "messages", "--every", "day", *extra],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        return done.stderr

    assert "--to" in add("--to", "ftp://h/x")
    assert "--tz" in add("--to", "file:///tmp/x", "--tz", "Mars/Base")
    assert "--lateness" in add("--to", "file:///tmp/x", "--lateness", "soon")
    # no key to encrypt the password with: refused, nothing kept
    assert "CXPORT_DESTINATION_KEY" in add("--to", "sftp://u:pw@127.0.0.1:22/x")


def test_concurrent_ticks_make_each_period_once_on_sqlite_and_postgresql(
    control_url: str,
) -> None:
    import threading

    from cxport.control.db import Control, ExportJob, Schedule, User, Workspace
    from cxport.jobs.schedules import tick as tick_control

    control = Control(control_url)
    try:
        with control.session.begin() as s:
            s.add(Workspace(id="w"))
            s.flush()
            s.add(User(id="u", workspace_id="w", email="a@w", role="admin"))
            s.flush()
            s.add(Schedule(
                id="s1", workspace_id="w", created_by="u", name="h", export="messages",
                every="hour", tz="America/Sao_Paulo", since=utc(2019, 2, 16, 2), lateness=0,
                destination="file:///tmp/x", options={"lang": "en"},
            ))  # fmt: skip
        now = utc(2019, 2, 17, 3)  # Feb 16th 2019 in Sao Paulo: 25 hours (DST ended)
        made: list[str] = []
        lock = threading.Lock()

        def ticker() -> None:
            ids = tick_control(control, now)
            with lock:
                made.extend(ids)

        threads = [threading.Thread(target=ticker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with control.session() as s:
            jobs = list(s.query(ExportJob).order_by(ExportJob.created_at, ExportJob.id))
        assert len(jobs) == len(made) == 25
        starts = [j.period_start for j in jobs]
        assert starts == sorted(starts) and len(set(starts)) == 25
        assert all(j.options["scheduled"] is True and "start_at" in j.options for j in jobs)
        assert tick_control(control, now) == []
    finally:
        control.close()


def test_folder_destinations_stay_under_the_allowed_folders(db: Path, tmp_path: Path) -> None:
    env = {**os.environ, "CXPORT_DESTINATION_FOLDERS": str(tmp_path / "exports")}
    base = [sys.executable, "-m", "cxport", "schedule", "add", "--db", str(db), "--export",
            "tags", "--every", "day"]  # fmt: skip
    refused = subprocess.run(
        [*base, "--name", "a", "--to", "file:///etc/cron.d"], capture_output=True, text=True,
        env=env, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2 and "--to" in refused.stderr
    assert "must be under" in refused.stderr
    allowed = subprocess.run(
        [*base, "--name", "b", "--to", f"file://{tmp_path / 'exports' / 'tags'}"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
