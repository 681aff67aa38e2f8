"""The activity exports join the others on their IDs, on any simulated workspace.

- every Conversation ID in `messages` and `response-times` is in the
  conversation exports (`resolved-conversations` over a range covering every
  resolution, plus `open-conversations`) of the same snapshot and channels,
  with the same channel and contact;
- every Contact Profile ID in `contact-attributes` is in `contacts` for the
  same request;
- response episodes point at messages: the outbound one is a human reply in
  the same `messages` file, the inbound one an inbound message;
- contacts' counts, conversations and Created at agree with the messages file
  (ranges that cut conversations in two included).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from helpers import export_text, rows, simulated_store

from cxport.store import open_store

SIM_START = dt.date(2024, 5, 1)
SIM_DAYS = 12
ALL_TIME = ("2000-01-01", "2099-12-31")
TZ = "America/Sao_Paulo"
# Mid-simulation (open conversations, sessions, later entity versions) and after the end.
SNAPSHOTS = ("2024-05-08T15:00:00Z", "2024-06-01T00:00:00Z")
RANGES = (("2024-05-01", "2024-05-03"), ("2024-05-04", "2024-05-04"), ALL_TIME)


@pytest.fixture(scope="module", params=[5, 13])
def simulated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp(f"sim{request.param}")
    return simulated_store(
        folder, seed=request.param, conversations=400, start=SIM_START, days=SIM_DAYS
    )


def channel_filters(db: Path) -> list[tuple[str, ...]]:
    con = open_store(db)
    try:
        ids = [r[0] for r in con.execute(
            "SELECT channel_id, count(*) FROM r_conversation GROUP BY ALL ORDER BY 2 DESC, 1"
        ).fetchall()]  # fmt: skip
    finally:
        con.close()
    assert len(ids) >= 2
    return [(), (ids[0],), (ids[0], ids[-1])]


def export_rows(
    db: Path, export: str, dates: tuple[str, str], as_of: str, channels: tuple[str, ...]
) -> list[dict[str, str]]:
    out = db.with_name(f"{export}.csv")
    return rows(export_text(db, export, *dates, tz=TZ, as_of=as_of, channels=channels, out=out))


@pytest.mark.parametrize("as_of", SNAPSHOTS)
def test_conversation_ids_are_in_the_conversation_exports(simulated: Path, as_of: str) -> None:
    for channels in channel_filters(simulated):
        known: dict[str, tuple[str, str]] = {}
        for export in ("resolved-conversations", "open-conversations"):
            for r in export_rows(simulated, export, ALL_TIME, as_of, channels):
                known[r["Conversation ID"]] = (r["Channel"], r["Contact Profile ID"])
        assert known
        for dates in RANGES:
            messages = export_rows(simulated, "messages", dates, as_of, channels)
            episodes = export_rows(simulated, "response-times", dates, as_of, channels)
            assert messages and episodes, (dates, channels)
            for r in messages:
                assert known.get(r["Conversation ID"]) == (r["Channel"], r["Contact Profile ID"])
            for r in episodes:
                assert known.get(r["Conversation ID"]) == (
                    r["Sender Channel"],
                    r["Contact Profile ID"],
                )


@pytest.mark.parametrize("as_of", SNAPSHOTS)
def test_contact_attribute_contacts_are_in_contacts(simulated: Path, as_of: str) -> None:
    for channels in channel_filters(simulated):
        for dates in RANGES:
            contacts = export_rows(simulated, "contacts", dates, as_of, channels)
            attributes = export_rows(simulated, "contact-attributes", dates, as_of, channels)
            assert attributes, (dates, channels)
            ids = {r["Contact Profile ID"] for r in contacts}
            assert {r["Contact Profile ID"] for r in attributes} <= ids
            # One row per (contact, attribute).
            pairs = Counter((r["Contact Profile ID"], r["Attribute ID"]) for r in attributes)
            assert max(pairs.values()) == 1


@pytest.mark.parametrize("as_of", SNAPSHOTS)
def test_episodes_point_at_messages(simulated: Path, as_of: str) -> None:
    everything = {
        r["Message ID"]: r for r in export_rows(simulated, "messages", ALL_TIME, as_of, ())
    }
    for dates in RANGES:
        messages = export_rows(simulated, "messages", dates, as_of, ())
        by_id = {r["Message ID"]: r for r in messages}
        assert len(by_id) == len(messages)
        for r in export_rows(simulated, "response-times", dates, as_of, ()):
            reply = by_id[r["Outbound Message ID"]]
            assert (reply["Source"], reply["Direction"]) == ("AGENT", "OUTBOUND")
            assert reply["Agent ID"] == r["Response Agent ID"]
            assert reply["Created at"] == r["To"]
            assert r["From"] <= r["To"]  # one fixed offset in 2024
            if r["Inbound Message ID"]:
                assert everything[r["Inbound Message ID"]]["Direction"] == "INBOUND"
            else:
                assert r["Initiated By"] == "VA_HANDED_OVER_CONVERSATION"


@pytest.mark.parametrize("as_of", SNAPSHOTS)
def test_contacts_agree_with_the_messages_file(simulated: Path, as_of: str) -> None:
    """Per contact: counts, conversations and Created at (its first inbound message,
    else its first message) of the same request's messages, channel filters included."""
    on_channels: dict[str, set[str]] = {}
    for r in export_rows(simulated, "messages", ALL_TIME, as_of, ()):
        if r["Contact Profile ID"]:
            on_channels.setdefault(r["Contact Profile ID"], set()).add(r["Channel"])
    assert any(len(c) > 1 for c in on_channels.values())  # a filter splits some contacts
    for channels in channel_filters(simulated):
        for dates in RANGES:
            messages = export_rows(simulated, "messages", dates, as_of, channels)
            per_contact: Counter[tuple[str, str]] = Counter()
            conversations: dict[str, set[str]] = {}
            first: dict[tuple[str, str], str] = {}  # (contact, direction): first Created at
            for r in messages:
                if cid := r["Contact Profile ID"]:
                    key = (cid, r["Direction"])
                    per_contact[key] += 1
                    conversations.setdefault(cid, set()).add(r["Conversation ID"])
                    first[key] = min(first.get(key, r["Created at"]), r["Created at"])
            contacts = export_rows(simulated, "contacts", dates, as_of, channels)
            assert {c["Contact Profile ID"] for c in contacts} == set(conversations)
            for c in contacts:
                cid = c["Contact Profile ID"]
                assert int(c["Number of Inbound Messages"]) == per_contact[(cid, "INBOUND")]
                assert int(c["Number of Outbound Messages"]) == per_contact[(cid, "OUTBOUND")]
                assert int(c["Number of Conversations"]) == len(conversations[cid])
                assert c["Created at"] == first.get((cid, "INBOUND"), first.get((cid, "OUTBOUND")))
