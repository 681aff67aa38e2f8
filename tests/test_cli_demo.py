"""`cxport demo` as a new user meets it (issue 15): a closing command that works
as printed, a folder per kind of demo, and `make demo` without the dev tools."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cxport.cli
import cxport.demo
from cxport.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_the_closing_command_works_as_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(main, ["demo", "--out", "demo", "--conversations", "300"])
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    command = lines[lines.index(next(x for x in lines if x.endswith("Try:"))) + 1]
    month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert f" --from {month} " in command
    outside = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PATH")}
    ran = subprocess.run(
        shlex.split(command), cwd=tmp_path, env={**outside, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "messages.csv").read_text().startswith("Message ID,")


def test_the_command_is_this_program_unless_the_shell_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "bin" / "cxport"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert cxport.cli._invocation() == str(script)
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    monkeypatch.setenv("UV_RUN_RECURSION_DEPTH", "1")  # found only because `uv run` put it there
    assert cxport.cli._invocation() == str(script)
    monkeypatch.delenv("UV_RUN_RECURSION_DEPTH")
    assert cxport.cli._invocation() == "cxport"


def test_each_demo_has_its_own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[Path] = []

    def fake_demo(out_dir: Path, **kwargs: object) -> cxport.demo.DemoRun:
        used.append(out_dir)
        return cxport.demo.DemoRun(
            [], out_dir / "demo.duckdb", dt.date(2024, 1, 1), dt.date(2024, 1, 31)
        )

    monkeypatch.setattr(cxport.demo, "run_demo", fake_demo)
    monkeypatch.chdir(tmp_path)
    twcs = tmp_path / "twcs.csv"
    twcs.write_text("tweet_id\n")
    for args in ([], ["--twcs", str(twcs)]):
        done = CliRunner().invoke(main, ["demo", *args])
        assert done.exit_code == 0, done.output
    assert used == [Path("cxport-demo"), Path("cxport-demo-twcs")]


def test_make_demo_installs_no_development_tools() -> None:
    planned = subprocess.run(
        ["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    runs = [line for line in planned if "cxport demo" in line]
    assert runs and all("--no-dev" in line for line in runs)
    assert not [line for line in planned if " sync " in line and "--no-dev" not in line]
