"""Properties of resolved-conversations and open-conversations on any simulated workspace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from helpers import export_text, rows, simulated_store

from cxport.store import open_store

# ---------------------------------------------------------------- properties of any workspace

SIM_START = dt.date(2024, 5, 1)
SIM_DAYS = 12
ALL_TIME = ("2000-01-01", "2099-12-31")
DURATIONS = (
    "First Response Time (s)",
    "Handle Time (s)",
    "No Reply Time (s)",
    "Cherry Picking Time (s)",
    "Resolution Time (s)",
)


@pytest.fixture(scope="module", params=[3, 11])
def simulated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp(f"sim{request.param}")
    return simulated_store(
        folder, seed=request.param, conversations=400, start=SIM_START, days=SIM_DAYS
    )


AS_OF = "2024-05-10T15:00:00Z"  # mid-simulation: open sessions and conversations exist


def export_rows(
    db: Path, export: str, date_from: str, date_to: str, **kw: object
) -> list[dict[str, str]]:
    return rows(
        export_text(db, export, date_from, date_to, tz="America/Sao_Paulo", as_of=AS_OF,
                    out=db.with_name(f"{export}-{date_from}-{date_to}.csv"), **kw)  # type: ignore[arg-type]
    )  # fmt: skip


def test_adjacent_ranges_add_up_to_their_union(simulated: Path) -> None:
    first = export_rows(simulated, "resolved-conversations", "2024-05-01", "2024-05-04")
    second = export_rows(simulated, "resolved-conversations", "2024-05-05", "2024-05-12")
    union = export_rows(simulated, "resolved-conversations", "2024-05-01", "2024-05-12")
    assert first and second
    ids_first = {r["Conversation ID"] for r in first}
    assert not ids_first & {r["Conversation ID"] for r in second}
    key = lambda r: r["Conversation ID"]  # noqa: E731
    assert sorted(first + second, key=key) == sorted(union, key=key)


def test_message_counts_equal_the_messages_in_the_store(simulated: Path) -> None:
    resolved = export_rows(simulated, "resolved-conversations", *ALL_TIME)
    opened = export_rows(simulated, "open-conversations", *ALL_TIME)
    every = {r["Conversation ID"]: r for r in resolved} | {r["Conversation ID"]: r for r in opened}
    counted = sum(
        int(r["Number of Inbound Messages"]) + int(r["Number of Outbound Messages"])
        for r in every.values()
    )
    con = open_store(simulated)
    try:
        (stored,) = con.execute(
            'SELECT count(*) FROM r_message WHERE "at" <= ?', [dt.datetime(2024, 5, 10, 15)]
        ).fetchall()[0]
    finally:
        con.close()
    assert counted == stored
    assert {r["Current Status"] for r in opened} <= {"NEW", "PENDING"}
    assert any(r["Current Status"] == "RESOLVED" for r in resolved)


def test_no_negative_durations_and_rows_in_order(simulated: Path) -> None:
    resolved = export_rows(simulated, "resolved-conversations", *ALL_TIME)
    opened = export_rows(simulated, "open-conversations", *ALL_TIME)
    for r in resolved + opened:
        for col in DURATIONS:
            assert r[col] == "" or int(r[col]) >= 0, (r["Conversation ID"], col, r[col])

    def instant(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text)

    def ordered(rs: list[dict[str, str]], col: str) -> bool:
        keys = [(instant(r[col]), r["Conversation ID"]) for r in rs]
        return keys == sorted(keys)

    assert ordered(resolved, "Resolved at")
    assert ordered(opened, "Created at")


def test_a_channel_filter_keeps_the_rows_of_its_channel(simulated: Path) -> None:
    every = export_rows(simulated, "resolved-conversations", *ALL_TIME)
    opened = export_rows(simulated, "open-conversations", *ALL_TIME)
    con = open_store(simulated)
    try:
        names = dict(con.execute("SELECT channel_id, name FROM r_channel").fetchall())
    finally:
        con.close()
    for channel_id, name in sorted(names.items())[:2]:
        only = export_rows(simulated, "resolved-conversations", *ALL_TIME, channels=(channel_id,))
        assert only == [r for r in every if r["Channel"].lstrip("'") == name]
        only_open = export_rows(simulated, "open-conversations", *ALL_TIME, channels=(channel_id,))
        assert only_open == [r for r in opened if r["Channel"].lstrip("'") == name]
