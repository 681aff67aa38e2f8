"""Sums agree across exports on simulated workspaces (the people exports against the others).

A simulated operation is ingested once per seed; each request then runs the
exports and checks what one file says against another:

- the agents' Replies are the human outbound messages of the messages export,
  the teams' Replies those of them that carry a team, and Contacts Helped the
  distinct contacts of those messages, per agent and per team;
- a virtual agent's Total Conversations per channel are the distinct
  conversations of its messages in the messages export;
- over a range covering everything, the conversations' handle, no-reply and
  cherry-picking times add up to the agents' (and the agents' available time
  to their presence intervals);
- counts and clipped durations are additive over adjacent ranges;
- a channel filter never changes presence time.

Files give whole seconds truncated per row, so sums of durations read from
two files may differ by less than one second per row summed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from helpers import export_text, rows, simulated_store

from cxport.store import open_store

pytestmark = pytest.mark.slow

TZ = "America/Sao_Paulo"
AS_OF = "2024-06-20T00:00:00Z"
# The simulated days are 2024-06-03..06-07 (São Paulo); entities start a month before.
ALL = ("2024-04-01", "2024-06-30")
DAYS = (("2024-06-04", "2024-06-04"), ("2024-06-05", "2024-06-05"), ("2024-06-04", "2024-06-05"))


@pytest.fixture(scope="module", params=[11, 12], ids=["seed11", "seed12"])
def sim(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp(f"sums{request.param}")
    return simulated_store(
        folder, seed=request.param, conversations=300, days=5, start=dt.date(2024, 6, 3)
    )


def export(db: Path, name: str, span: tuple[str, str], **kw: object) -> list[dict[str, str]]:
    out = db.with_name(f"{name}.csv")
    text = export_text(db, name, span[0], span[1], tz=TZ, as_of=AS_OF, out=out, **kw)  # type: ignore[arg-type]
    return rows(text)


def channel_ids(db: Path) -> list[str]:
    con = open_store(db)
    try:
        return [
            r[0]
            for r in con.execute("SELECT DISTINCT channel_id FROM r_channel ORDER BY 1").fetchall()
        ]
    finally:
        con.close()


def requests(db: Path) -> list[tuple[tuple[str, str], tuple[str, ...]]]:
    some = tuple(channel_ids(db)[::2])
    return [(ALL, ()), (DAYS[0], ()), (DAYS[1], ()), (DAYS[2], some), (ALL, some)]


def human_replies(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    return [m for m in messages if m["Direction"] == "OUTBOUND" and m["Source"] == "AGENT"]


def test_replies_and_contacts_helped_match_the_messages_export(sim: Path) -> None:
    for span, channels in requests(sim):
        replies = human_replies(export(sim, "messages", span, channels=channels))
        assert replies, "the simulated workspace has replies in every request"
        agents = export(sim, "agent-metrics", span, channels=channels)
        teams = export(sim, "teams", span, channels=channels)

        assert sum(int(a["Replies"]) for a in agents) == len(replies)
        assert sum(int(t["Replies"]) for t in teams) == sum(1 for m in replies if m["Team ID"])

        for unit, file in (("Agent ID", agents), ("Team ID", teams)):
            key = "User ID" if unit == "Agent ID" else "Team ID"
            contacts: dict[str, set[str]] = defaultdict(set)
            per_unit: Counter[str] = Counter()
            for m in replies:
                if m[unit]:
                    per_unit[m[unit]] += 1
                    if m["Contact Profile ID"]:
                        contacts[m[unit]].add(m["Contact Profile ID"])
            assert {r[key]: int(r["Replies"]) for r in file if r["Replies"] != "0"} == dict(
                per_unit
            )
            assert {
                r[key]: int(r["Contacts Helped"]) for r in file if r["Contacts Helped"] != "0"
            } == {k: len(v) for k, v in contacts.items() if v}


def test_virtual_agent_conversations_match_their_messages(sim: Path) -> None:
    for span, channels in requests(sim):
        messages = export(sim, "messages", span, channels=channels)
        expected: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for m in messages:
            if m["Source"] == "VIRTUAL_AGENT":
                expected[(m["Agent ID"], m["Medium"], m["Channel"])].add(m["Conversation ID"])
        got = {
            (r["Agent ID"], r["Medium"], r["Channel"]): int(r["Total Conversations"])
            for r in export(sim, "virtual-agents", span, channels=channels)
            if r["Total Conversations"] != "0"
        }
        assert expected, "the simulated virtual agents write"
        assert got == {k: len(v) for k, v in expected.items()}


def _seconds(file: list[dict[str, str]], column: str) -> int:
    return sum(int(r[column]) for r in file if r[column])


def test_conversation_lock_time_adds_up_to_the_agents(sim: Path) -> None:
    for channels in ((), tuple(channel_ids(sim)[::2])):
        by_id = {}
        for name in ("resolved-conversations", "open-conversations"):
            for r in export(sim, name, ALL, channels=channels):
                by_id[r["Conversation ID"]] = r  # a reopened conversation is in both
        conversations = list(by_id.values())
        agents = export(sim, "agent-metrics", ALL, channels=channels)
        teams = export(sim, "teams", ALL, channels=channels)
        for conv_col, agent_col, team_col in (
            ("Handle Time (s)", "Handle Time (s)", "Total Handle Time (s)"),
            ("No Reply Time (s)", "No Reply Time (s)", "Total No Reply Time (s)"),
            ("Cherry Picking Time (s)", "Cherry Picking Time (s)", "Total Cherry Picking Time (s)"),
        ):
            by_conversations = _seconds(conversations, conv_col)
            by_agents = _seconds(agents, agent_col)
            assert abs(by_agents - by_conversations) < max(len(conversations), len(agents))
            # teams get the sessions whose lock carries a team: never more
            assert _seconds(teams, team_col) <= by_agents + len(agents)
        assert _seconds(agents, "Handle Time (s)") > 0


def test_available_time_is_the_presence_intervals(sim: Path) -> None:
    intervals: dict[str, list[int]] = defaultdict(list)
    for r in export(sim, "agent-presence", ALL):
        if r["Type"] == "AVAILABLE":
            intervals[r["User ID"]].append(int(r["Duration (s)"]))
    metrics = {
        r["User ID"]: int(r["Available Time (s)"]) for r in export(sim, "agent-metrics", ALL)
    }
    assert intervals
    for agent, durations in intervals.items():
        assert 0 <= metrics[agent] - sum(durations) < len(durations)


ADDITIVE = ("Replies", "Tags Added", "Topics Added", *(f"CSAT Score {k}" for k in range(1, 6)))
CLIPPED = (
    "Handle Time (s)",
    "No Reply Time (s)",
    "Cherry Picking Time (s)",
    "Available Time (s)",
    "Away Time (s)",
)


def test_counts_and_clipped_times_add_over_adjacent_days(sim: Path) -> None:
    first, second, both = (export(sim, "agent-metrics", span) for span in DAYS)
    for column in ADDITIVE:
        assert _seconds(first, column) + _seconds(second, column) == _seconds(both, column), column
    for column in CLIPPED:
        parts = _seconds(first, column) + _seconds(second, column)
        assert 0 <= _seconds(both, column) - parts < len(first) + len(second), column


def test_channel_filter_keeps_presence_time(sim: Path) -> None:
    some = tuple(channel_ids(sim)[:1])
    full = {r["User ID"]: r for r in export(sim, "agent-metrics", DAYS[2])}
    filtered = {r["User ID"]: r for r in export(sim, "agent-metrics", DAYS[2], channels=some)}
    present = {
        a for a, r in full.items() if r["Available Time (s)"] != "0" or r["Away Time (s)"] != "0"
    }
    assert present and present <= set(filtered)
    for agent in present:
        for column in ("Available Time (s)", "Away Time (s)"):
            assert filtered[agent][column] == full[agent][column]
        assert int(filtered[agent]["Replies"]) <= int(full[agent]["Replies"])
