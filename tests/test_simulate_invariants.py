"""The simulator's records are valid (`ingest.md`) and obey the platform's rules
(`metrics.md`), checked on one generated workspace at default settings."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from cxport.records import (
    BY_NAME,
    COMMON_FIELDS,
    CROSS_RULES,
    ID_MAX_LEN,
    OTHER_TYPE_RANK,
    TYPE_RANK,
    Kind,
)
from cxport.simulate import simulate

CONVERSATIONS = 3000
AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
DAY = dt.timedelta(days=1)

Record = dict[str, Any]


def instant(at: str) -> dt.datetime:
    return dt.datetime.fromisoformat(at)


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "workspace.ndjson"
    simulate(out, conversations=CONVERSATIONS)
    return out


@pytest.fixture(scope="module")
def records(path: Path) -> list[Record]:
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    for r in rows:
        r["_t"] = instant(r["at"])
    return rows


@pytest.fixture(scope="module")
def ordered(records: list[Record]) -> list[Record]:
    """The total order of metrics.md: at, then type rank, then record id."""
    return sorted(
        records, key=lambda r: (r["_t"], TYPE_RANK.get(r["type"], OTHER_TYPE_RANK), r["id"])
    )


def by_type(records: list[Record], *types: str) -> list[Record]:
    return [r for r in records if r["type"] in types]


# -- the record format -----------------------------------------------------------------


def _field_problem(
    kind: Kind, value: Any, values: tuple[str, ...], max_len: int | None
) -> str | None:
    if kind is Kind.ID:
        ok = isinstance(value, str) and 0 < len(value) <= ID_MAX_LEN
    elif kind is Kind.TEXT:
        ok = isinstance(value, str) and (max_len is None or len(value) <= max_len)
    elif kind is Kind.ENUM:
        ok = value in values
    elif kind is Kind.SLUG:
        ok = isinstance(value, str) and bool(SLUG.match(value))
    elif kind is Kind.CODE:
        ok = isinstance(value, str) and bool(CODE.match(value))
    elif kind is Kind.LANGUAGE:
        ok = isinstance(value, str) and bool(LANGUAGE.match(value))
    elif kind is Kind.BOOL:
        ok = isinstance(value, bool)
    elif kind is Kind.SCORE:
        ok = type(value) is int and 1 <= value <= 5
    elif kind is Kind.TRUE:
        ok = value is True
    elif kind is Kind.WEEKLY:
        ok = _weekly_ok(value)
    elif kind is Kind.DATES:
        ok = isinstance(value, list) and all(
            dt.date.fromisoformat(d).isoformat() == d for d in value
        )
    else:  # Kind.IDS
        ok = isinstance(value, list) and all(isinstance(x, str) and x for x in value)
    return None if ok else f"{kind.value}: {value!r}"


def _weekly_ok(weekly: Any) -> bool:
    if not isinstance(weekly, dict) or not set(weekly) <= {
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    }:
        return False
    for intervals in weekly.values():
        previous = "00:00"
        for start, end in intervals:
            if not (HHMM.match(start) and HHMM.match(end) and previous <= start < end):
                return False
            previous = end
    return True


def test_every_record_has_the_fields_of_its_type(records: list[Record]) -> None:
    problems = []
    for line, r in enumerate(records, 1):
        rt = BY_NAME.get(r["type"])
        if rt is None:
            problems.append((line, "type", r["type"]))
            continue
        if not AT.match(r["at"]):
            problems.append((line, "at", r["at"]))
        known = {f.name: f for f in rt.fields}
        for name in set(r) - set(known) - set(COMMON_FIELDS) - {"_t"}:
            problems.append((line, name, "unknown field"))
        for f in rt.fields:
            if f.name not in r:
                if f.required or f.nullable_required:
                    problems.append((line, f.name, "missing"))
                continue
            if r[f.name] is None and f.nullable_required:
                continue
            problem = _field_problem(f.kind, r[f.name], f.values, f.max_len)
            if problem:
                problems.append((line, f.name, problem))
    assert problems == []


def test_record_ids_and_message_ids_are_unique(records: list[Record]) -> None:
    ids = Counter(r["id"] for r in records)
    assert ids.most_common(1)[0][1] == 1
    message_ids = Counter(r["message_id"] for r in by_type(records, "message"))
    assert message_ids.most_common(1)[0][1] == 1


def test_cross_field_rules_of_records_py_hold(path: Path) -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE r AS SELECT * FROM read_json(?, format='newline_delimited', "
        "union_by_name=true, sample_size=-1)",
        [str(path)],
    )
    broken = {}
    for types, condition, field, reason in CROSS_RULES:
        in_types = ", ".join(f"'{t}'" for t in types)
        (n,) = con.execute(
            f"SELECT count(*) FROM r WHERE type IN ({in_types}) AND ({condition})"
        ).fetchone()  # type: ignore[misc]
        if n:
            broken[(field, reason)] = n
    assert broken == {}


def test_every_type_field_and_enum_value_appears(records: list[Record]) -> None:
    seen_fields: dict[str, set[str]] = defaultdict(set)
    seen_values: dict[tuple[str, str], set[Any]] = defaultdict(set)
    for r in records:
        seen_fields[r["type"]].update(k for k, v in r.items() if v is not None)
        for k, v in r.items():
            if isinstance(v, str):
                seen_values[(r["type"], k)].add(v)
    missing = []
    for rt in BY_NAME.values():
        for f in rt.fields:
            if f.name not in seen_fields[rt.name]:
                missing.append(f"{rt.name}.{f.name}")
            for value in f.values:
                if value not in seen_values[(rt.name, f.name)]:
                    missing.append(f"{rt.name}.{f.name}={value}")
    assert missing == []


def test_edge_cases_of_the_format_appear(records: list[Record]) -> None:
    cleared = [r for r in by_type(records, "contact_attribute") if r["value"] is None]
    assert cleared, "an attribute cleared with null"
    calendars = by_type(records, "business_hours")
    assert any("channel_ids" not in c for c in calendars), "a default calendar"
    assert any(c.get("channel_ids") == [] for c in calendars), "a calendar for no channel"
    assert any(c.get("holidays") for c in calendars)
    assert any(
        end == "24:00" for c in calendars for days in c["weekly"].values() for _, end in days
    )
    assert len({c["timezone"] for c in calendars}) > 1
    assert {r["at"][-1] for r in records} >= {"Z", "0"}, "both Z and offset spellings"
    handovers = [
        r for r in by_type(records, "status_change") if r.get("handover_reason") == "ERROR"
    ]
    assert handovers
    assert any(
        r["status"] == "AWAY" and "away_state" not in r for r in by_type(records, "presence")
    )


def test_labels_are_applied_and_removed_by_agents_bots_and_automation(
    records: list[Record],
) -> None:
    def actor(r: Record) -> str:
        return "agent" if "agent_id" in r else "bot" if "virtual_agent_id" in r else "automation"

    seen = {
        (r["type"], actor(r))
        for r in by_type(records, "topic_applied", "topic_removed", "tag_applied", "tag_removed")
    }
    kinds = ("topic_applied", "topic_removed", "tag_applied", "tag_removed")
    assert seen == {(k, a) for k in kinds for a in ("agent", "bot", "automation")}
    team_of_agent = [r for r in by_type(records, *kinds) if "agent_id" in r and "team_id" not in r]
    assert team_of_agent == []


def test_contacts_get_attributes_of_every_type(records: list[Record]) -> None:
    kinds = {
        r["attribute_id"]: r["attribute_type"]
        for r in by_type(records, "contact_attribute_definition")
    }
    used = {kinds[r["attribute_id"]] for r in by_type(records, "contact_attribute")}
    assert used == {"DEFAULT", "CUSTOM", "MEDIUM", "CRM"}


def test_message_content_is_awkward_for_csv(records: list[Record]) -> None:
    texts = [r["content"] for r in by_type(records, "message") if "content" in r]
    for start in "=+-@":
        assert any(t.startswith(start) for t in texts), start
    for piece in (",", '"', "\n", "\r\n", "\\", "|"):
        assert any(piece in t for t in texts), piece
    assert any(any(ord(ch) > 0xFFFF for ch in t) for t in texts), "an emoji"


# -- references and time ---------------------------------------------------------------


def test_events_name_entities_that_exist_before_them(records: list[Record]) -> None:
    keys = {
        "conversation_id": "conversation",
        "channel_id": "channel",
        "contact_profile_id": "contact",
        "agent_id": "agent",
        "team_id": "team",
        "virtual_agent_id": "virtual_agent",
        "topic_id": "topic",
        "tag_id": "tag",
        "attribute_id": "contact_attribute_definition",
        "message_id": "message",
    }
    first: dict[tuple[str, str], dt.datetime] = {}
    for r in records:
        rt = BY_NAME[r["type"]]
        key = rt.entity_key or ("message_id" if r["type"] == "message" else None)
        if key:
            k = (r["type"], r[key])
            first[k] = min(first.get(k, r["_t"]), r["_t"])
    late = []
    for r in records:
        for field, entity in keys.items():
            if field not in r or (
                r["type"] == entity and field == (BY_NAME[entity].entity_key or "message_id")
            ):
                continue
            known = first.get((entity, r[field]))
            if known is None or known > r["_t"]:
                late.append((r["type"], field, r[field], r["at"]))
    assert late == []


def test_times_fall_in_the_period(records: list[Record]) -> None:
    start = dt.datetime(2024, 5, 1, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    end = start + 35 * DAY
    events = [r for r in records if not BY_NAME[r["type"]].is_entity]
    assert min(r["_t"] for r in events) >= start
    assert max(r["_t"] for r in records) < end
    setup = [r for r in records if r["_t"] < start]
    assert setup and all(BY_NAME[r["type"]].is_entity for r in setup)


def test_entities_change_over_time(records: list[Record]) -> None:
    versions: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in records:
        rt = BY_NAME[r["type"]]
        if rt.entity_key:
            versions[(r["type"], r[rt.entity_key])].append(r)
    changed = {kind for (kind, _), vs in versions.items() if len({v.get("name") for v in vs}) > 1}
    assert {
        "team",
        "agent",
        "virtual_agent",
        "topic",
        "tag",
        "contact_attribute_definition",
    } <= changed
    deactivated = {
        kind for (kind, _), vs in versions.items() if any(v.get("active") is False for v in vs)
    }
    assert deactivated == {"topic", "tag"}
    assert len(versions[("business_hours", "cal-padrao")]) == 2


# -- platform rules -----------------------------------------------------------------------


def lock_session_problems(ordered: list[Record]) -> tuple[list[Any], Counter[str]]:
    """Sessions cut by the six rules of metrics.md; then what the simulator promises:
    locks are taken while AVAILABLE, inbox replies and agent status changes happen
    inside the agent's session on that conversation, and a session ended only by the
    agent's next lock was a cherry pick (no reply in it)."""
    presence: dict[str, str] = {}
    open_by_agent: dict[str, dict[str, Any]] = {}
    ends: Counter[str] = Counter()
    problems = []

    def end(agent: str, why: str) -> None:
        session = open_by_agent.pop(agent)
        ends[why] += 1
        if why == "next lock" and session["replied"]:
            problems.append(("abandoned after replying", agent, session["conversation"]))

    for r in ordered:
        kind, conv, agent = r["type"], r.get("conversation_id"), r.get("agent_id", "")
        if kind == "presence":
            presence[agent] = r["status"]
            if r["status"] != "AVAILABLE" and agent in open_by_agent:
                end(agent, "presence")
        elif kind == "lock" and agent:
            if presence.get(agent) != "AVAILABLE":
                problems.append(("lock while not available", agent, r["at"]))
            if agent in open_by_agent:
                end(agent, "next lock")
            for other, s in list(open_by_agent.items()):
                if s["conversation"] == conv:
                    end(other, "stolen")
            open_by_agent[agent] = {"conversation": conv, "replied": False}
        elif kind == "unlock" and agent:
            if open_by_agent.get(agent, {}).get("conversation") == conv:
                end(agent, "unlock")
        elif (
            kind == "message"
            and r["source"] == "AGENT"
            and r.get("outbound_message_type") == "INBOX"
        ):
            held = open_by_agent.get(agent)
            if held is None or held["conversation"] != conv:
                problems.append(("inbox reply outside a session", agent, r["at"]))
            else:
                held["replied"] = True
        elif kind == "status_change":
            bulk = r.get("resolved_by") == "BULK_RESOLVE"
            if agent and not bulk and open_by_agent.get(agent, {}).get("conversation") != conv:
                problems.append(("status change outside a session", agent, r["at"]))
            if r["status"] in ("PENDING", "RESOLVED"):
                for other, s in list(open_by_agent.items()):
                    if s["conversation"] == conv:
                        end(other, "status change")
    return problems, ends


def test_lock_sessions_follow_the_one_lock_per_agent_rule(ordered: list[Record]) -> None:
    problems, ends = lock_session_problems(ordered)
    assert problems == []
    assert set(ends) == {"presence", "next lock", "stolen", "unlock", "status change"}


def status_problems(ordered: list[Record]) -> tuple[list[Any], Counter[str]]:
    """Reopened only by a new inbound message or an agent; an inbound message wakes a
    pending or resolved conversation; bulk resolves only pending ones; auto-resolve
    only after 30 days without messages; virtual agents act on open conversations."""
    status: dict[str, str] = {}
    last_message: dict[str, dt.datetime] = {}
    inbound_at: dict[str, dt.datetime] = {}
    awaiting_new: dict[str, dt.datetime] = {}
    problems = []
    reopenings = Counter[str]()
    for r in ordered:
        conv: str = r.get("conversation_id", "")
        if r["type"] == "message":
            last_message[conv] = r["_t"]
            if r["direction"] == "INBOUND":
                inbound_at[conv] = r["_t"]
                if status.get(conv) in ("PENDING", "RESOLVED"):
                    awaiting_new[conv] = r["_t"]
        elif r["type"] == "status_change":
            before, now = status.get(conv), r["status"]
            if conv in awaiting_new and (now != "NEW" or awaiting_new.pop(conv) != r["_t"]):
                problems.append(("inbound message did not set NEW", conv, r["at"]))
            if before == "RESOLVED" and now != "RESOLVED":
                by_inbound = r.get("system") and r.get("initiated_by") == "INBOUND_MESSAGE"
                if by_inbound and inbound_at.get(conv) == r["_t"]:
                    reopenings["inbound"] += 1
                elif "agent_id" in r:
                    reopenings["agent"] += 1
                else:
                    problems.append(("reopened by neither inbound nor agent", conv, r["at"]))
            if r.get("virtual_agent_id") and before == "RESOLVED":
                problems.append(("virtual agent on a resolved conversation", conv, r["at"]))
            if r.get("resolved_by") == "BULK_RESOLVE" and before != "PENDING":
                problems.append(("bulk resolve of a non-pending conversation", conv, r["at"]))
            auto = r.get("resolve_trigger") == "AUTO_RESOLVE"
            if auto and r["_t"] - last_message[conv] < 30 * DAY:
                problems.append(("auto-resolved while active", conv, r["at"]))
            if now == "RESOLVED" and before == "RESOLVED":
                problems.append(("resolved twice in a row", conv, r["at"]))
            status[conv] = now
    problems.extend(("inbound message left without NEW", c, t) for c, t in awaiting_new.items())
    return problems, reopenings


def test_conversation_status_follows_the_rules(ordered: list[Record]) -> None:
    problems, reopenings = status_problems(ordered)
    assert problems == []
    assert reopenings["inbound"] > 0 and reopenings["agent"] > 0


@pytest.mark.parametrize(
    ("start", "days"),
    [(dt.date(2018, 10, 28), 14), (dt.date(2024, 12, 20), 20), (dt.date(2024, 5, 1), 1)],
    ids=["daylight-saving-2018", "new-year", "one-day"],
)
def test_other_periods_keep_the_rules(tmp_path: Path, start: dt.date, days: int) -> None:
    out = tmp_path / "w.ndjson"
    simulate(out, conversations=600, start=start, days=days)
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    for r in rows:
        r["_t"] = instant(r["at"])
    rows.sort(key=lambda r: (r["_t"], TYPE_RANK.get(r["type"], OTHER_TYPE_RANK), r["id"]))
    assert lock_session_problems(rows)[0] == []
    assert status_problems(rows)[0] == []
    first_event = min(r["_t"] for r in rows if not BY_NAME[r["type"]].is_entity)
    assert first_event.date() >= start - dt.timedelta(days=1)


def test_csat_follows_a_resolution(ordered: list[Record]) -> None:
    resolved: set[str] = set()
    events: dict[str, list[str]] = defaultdict(list)
    problems = []
    for r in ordered:
        conv: str = r.get("conversation_id", "")
        if r["type"] == "status_change" and r["status"] == "RESOLVED":
            resolved.add(conv)
        elif r["type"] == "csat":
            if conv not in resolved:
                problems.append(("csat before any resolution", conv))
            expected = {"SENT": None, "ANSWERED": "SENT", "FOLLOW_UP_ANSWERED": "ANSWERED"}[
                r["event"]
            ]
            if expected and (not events[conv] or events[conv][-1] != expected):
                problems.append((f"{r['event']} not after {expected}", conv))
            events[conv].append(r["event"])
    assert problems == []


def test_presence_of_each_agent_alternates(ordered: list[Record]) -> None:
    last: dict[str, str] = {}
    repeats = 0
    for r in by_type(ordered, "presence"):
        if last.get(r["agent_id"]) == r["status"] and r["status"] != "AVAILABLE":
            repeats += 1
        last[r["agent_id"]] = r["status"]
    assert repeats == 0


def test_contacts_come_back(records: list[Record]) -> None:
    per_contact = Counter(r["contact_profile_id"] for r in by_type(records, "conversation"))
    assert sum(1 for n in per_contact.values() if n > 1) > CONVERSATIONS * 0.05
