"""`cxport demo`: simulated workspace → store → all twelve exports, summarised."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner
from helpers import rows

from cxport.cli import main
from cxport.demo import last_complete_month, run_demo


def test_last_complete_month() -> None:
    assert last_complete_month(dt.datetime(2026, 11, 27, 10)) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 31),
    )
    assert last_complete_month(dt.datetime(2024, 3, 1, 0, 0, 1)) == (
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 29),
    )


def test_demo_writes_every_export_for_the_last_complete_month(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--conversations", "600"])
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.csv"))
    assert len(files) == 12
    previous = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert all(f"_{previous:%Y%m%d}_" in f.name for f in files)
    messages = rows(next(out.glob("*_messages_*.csv")).read_text(encoding="utf-8"))
    assert len(messages) > 100
    assert {m["Created at"][:7] for m in messages} == {previous.isoformat()[:7]}
    assert "resolved-conversations" in result.output and "headline" in result.output


def test_demo_is_repeatable(tmp_path: Path) -> None:
    today = dt.date(2024, 7, 15)
    first = run_demo(tmp_path / "a", conversations=300, today=today, say=lambda s: None).rows
    second = run_demo(tmp_path / "b", conversations=300, today=today, say=lambda s: None).rows
    assert [(r.result.export, r.result.rows) for r in first] == [
        (r.result.export, r.result.rows) for r in second
    ]
    for r in first:
        name = Path(r.result.output).name
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
