"""The record types of `ingest.md`, as data.

Everything that knows the record format (the store's tables, the ingest
validator, the simulator's tests) reads it from here, so a field is declared
once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a field's JSON value is checked and stored."""

    ID = "id"  # non-empty string, at most 200 characters
    TEXT = "text"  # any string
    ENUM = "enum"  # one of Field.values
    SLUG = "slug"  # lower-case slug (medium)
    CODE = "code"  # upper-case code (message_type, handover_reason)
    LANGUAGE = "language"  # BCP 47 tag
    BOOL = "bool"
    SCORE = "score"  # integer 1-5
    TRUE = "true"  # the literal `true` (status_change.system)
    WEEKLY = "weekly"  # business-hours week object, stored as canonical JSON text
    DATES = "dates"  # list of local dates YYYY-MM-DD
    IDS = "ids"  # list of ids


SQL_TYPES: dict[Kind, str] = {
    Kind.BOOL: "BOOLEAN",
    Kind.TRUE: "BOOLEAN",
    Kind.SCORE: "INTEGER",
    Kind.DATES: "VARCHAR[]",
    Kind.IDS: "VARCHAR[]",
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = False
    values: tuple[str, ...] = ()
    max_len: int | None = None
    nullable_required: bool = False  # must be present, but `null` is meaningful

    @property
    def sql_type(self) -> str:
        return SQL_TYPES.get(self.kind, "VARCHAR")


@dataclass(frozen=True)
class RecordType:
    name: str
    fields: tuple[Field, ...]
    entity_key: str | None = None  # entities: the field naming the entity

    @property
    def is_entity(self) -> bool:
        return self.entity_key is not None

    @property
    def table(self) -> str:
        return f"r_{self.name}"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _id(name: str, required: bool = True) -> Field:
    return Field(name, Kind.ID, required)


def _enum(name: str, values: str, required: bool = True) -> Field:
    return Field(name, Kind.ENUM, required, tuple(values.split()))


def _text(name: str, required: bool = False, max_len: int | None = None) -> Field:
    return Field(name, Kind.TEXT, required, max_len=max_len)


MEDIUM = Field("medium", Kind.SLUG, True)
ACTOR_AGENT = _id("agent_id", False)
ACTOR_VA = _id("virtual_agent_id", False)
TEAM = _id("team_id", False)

RECORD_TYPES: tuple[RecordType, ...] = (
    # Entities
    RecordType(
        "channel",
        (_id("channel_id"), MEDIUM, _text("name", True), _text("display_name")),
        "channel_id",
    ),
    RecordType("team", (_id("team_id"), _text("name", True)), "team_id"),
    RecordType(
        "agent",
        (_id("agent_id"), _text("name", True), _text("email"), _text("reference")),
        "agent_id",
    ),
    RecordType("virtual_agent", (_id("virtual_agent_id"), _text("name", True)), "virtual_agent_id"),
    RecordType(
        "topic",
        (_id("topic_id"), _text("name", True), Field("active", Kind.BOOL, True)),
        "topic_id",
    ),
    RecordType(
        "tag", (_id("tag_id"), _text("name", True), Field("active", Kind.BOOL, True)), "tag_id"
    ),
    RecordType(
        "contact",
        (
            _id("contact_profile_id"),
            MEDIUM,
            _text("primary_identifier"),
            _text("secondary_identifier"),
        ),
        "contact_profile_id",
    ),
    RecordType(
        "contact_attribute_definition",
        (
            _id("attribute_id"),
            _text("name", True),
            _enum("attribute_type", "DEFAULT CUSTOM MEDIUM CRM"),
        ),
        "attribute_id",
    ),
    RecordType(
        "conversation",
        (
            _id("conversation_id"),
            _id("channel_id"),
            _id("contact_profile_id"),
            _text("url"),
            Field("language", Kind.LANGUAGE),
        ),
        "conversation_id",
    ),
    RecordType(
        "business_hours",
        (
            _id("calendar_id"),
            _text("timezone", True),
            Field("weekly", Kind.WEEKLY, True),
            Field("holidays", Kind.DATES),
            Field("channel_ids", Kind.IDS),
        ),
        "calendar_id",
    ),
    # Events
    RecordType(
        "message",
        (
            _id("message_id"),
            _id("conversation_id"),
            _enum("direction", "INBOUND OUTBOUND"),
            _enum("source", "CONTACT AGENT VIRTUAL_AGENT SYSTEM"),
            Field("message_type", Kind.CODE, True),
            _enum("outbound_message_type", "INBOX NATIVE API", False),
            _enum("system_user_type", "AUTO_RESPONDER CSAT_SURVEY AUTOMATION PROACTIVE", False),
            ACTOR_AGENT,
            ACTOR_VA,
            TEAM,
            _text("content"),
            _text("post_url"),
        ),
    ),
    RecordType("message_deleted", (_id("message_id"),)),
    RecordType(
        "status_change",
        (
            _id("conversation_id"),
            _enum("status", "NEW PENDING RESOLVED"),
            ACTOR_AGENT,
            ACTOR_VA,
            Field("system", Kind.TRUE),
            TEAM,
            _enum("initiated_by", "INBOUND_MESSAGE VA_HANDED_OVER_CONVERSATION SET_TO_NEW", False),
            Field("handover_reason", Kind.CODE),
            _enum("resolved_by", "AGENT VIRTUAL_AGENT BULK_RESOLVE SYSTEM", False),
            _enum("resolve_trigger", "HUMAN_AGENT VIRTUAL_AGENT AUTOMATION AUTO_RESOLVE", False),
            _text("resolve_reason"),
            _text("resolve_comment"),
        ),
    ),
    RecordType("lock", (_id("conversation_id"), ACTOR_AGENT, ACTOR_VA, TEAM)),
    RecordType("unlock", (_id("conversation_id"), ACTOR_AGENT, ACTOR_VA)),
    RecordType(
        "topic_applied", (_id("conversation_id"), _id("topic_id"), ACTOR_AGENT, ACTOR_VA, TEAM)
    ),
    RecordType(
        "topic_removed", (_id("conversation_id"), _id("topic_id"), ACTOR_AGENT, ACTOR_VA, TEAM)
    ),
    RecordType("tag_applied", (_id("message_id"), _id("tag_id"), ACTOR_AGENT, ACTOR_VA, TEAM)),
    RecordType("tag_removed", (_id("message_id"), _id("tag_id"), ACTOR_AGENT, ACTOR_VA, TEAM)),
    RecordType(
        "csat",
        (
            _id("conversation_id"),
            _enum("event", "SENT ANSWERED FOLLOW_UP_ANSWERED"),
            Field("score", Kind.SCORE),
            _text("follow_up_question"),
            _text("follow_up_answer"),
        ),
    ),
    RecordType(
        "presence",
        (
            _id("agent_id"),
            _enum("status", "AVAILABLE AWAY OFFLINE"),
            _text("away_state", max_len=25),
        ),
    ),
    RecordType(
        "contact_attribute",
        (
            _id("contact_profile_id"),
            _id("attribute_id"),
            Field("value", Kind.TEXT, nullable_required=True),
        ),
    ),
)

BY_NAME: dict[str, RecordType] = {rt.name: rt for rt in RECORD_TYPES}
COMMON_FIELDS = ("type", "id", "at")
ID_MAX_LEN = 200
MAX_LINE_BYTES = 1024 * 1024

# The order of records (metrics.md): by `at`, then by this rank of the type,
# then by record id.
TYPE_RANK: dict[str, int] = {"message": 0, "lock": 1, "unlock": 2, "status_change": 3}
OTHER_TYPE_RANK = 4


# Rules that tie fields together, as (types, SQL condition that is an error,
# field it names, reason). Columns are the typed field values; `NULL` means
# absent or null.
CrossRule = tuple[tuple[str, ...], str, str, str]

CROSS_RULES: tuple[CrossRule, ...] = (
    (
        ("message",),
        "outbound_message_type IS NOT NULL AND direction <> 'OUTBOUND'",
        "outbound_message_type",
        "only allowed on OUTBOUND messages",
    ),
    (
        ("message",),
        "system_user_type IS NOT NULL AND source <> 'SYSTEM'",
        "system_user_type",
        "only allowed when source is SYSTEM",
    ),
    (
        ("message",),
        "source = 'AGENT' AND agent_id IS NULL",
        "agent_id",
        "required when source is AGENT",
    ),
    (
        ("message",),
        "source = 'VIRTUAL_AGENT' AND virtual_agent_id IS NULL",
        "virtual_agent_id",
        "required when source is VIRTUAL_AGENT",
    ),
    (
        ("status_change",),
        "(agent_id IS NOT NULL)::INT + (virtual_agent_id IS NOT NULL)::INT + coalesce(system, false)::INT <> 1",
        "agent_id",
        "exactly one actor is required: agent_id, virtual_agent_id or system: true",
    ),
    (
        ("status_change",),
        "initiated_by IS NOT NULL AND status <> 'NEW'",
        "initiated_by",
        "only allowed when status is NEW",
    ),
    (
        ("status_change",),
        "handover_reason IS NOT NULL AND coalesce(initiated_by, '') <> 'VA_HANDED_OVER_CONVERSATION'",
        "handover_reason",
        "only allowed with initiated_by VA_HANDED_OVER_CONVERSATION",
    ),
    (
        ("status_change",),
        "status = 'RESOLVED' AND resolved_by IS NULL",
        "resolved_by",
        "required when status is RESOLVED",
    ),
    (
        ("status_change",),
        "status = 'RESOLVED' AND resolve_trigger IS NULL",
        "resolve_trigger",
        "required when status is RESOLVED",
    ),
    (
        ("status_change",),
        "status <> 'RESOLVED' AND (resolved_by IS NOT NULL OR resolve_trigger IS NOT NULL "
        "OR resolve_reason IS NOT NULL OR resolve_comment IS NOT NULL)",
        "resolved_by",
        "resolution fields are only allowed when status is RESOLVED",
    ),
    (
        ("lock", "unlock"),
        "(agent_id IS NULL) = (virtual_agent_id IS NULL)",
        "agent_id",
        "exactly one of agent_id or virtual_agent_id is required",
    ),
    (
        ("topic_applied", "topic_removed", "tag_applied", "tag_removed"),
        "agent_id IS NOT NULL AND virtual_agent_id IS NOT NULL",
        "agent_id",
        "at most one actor: agent_id or virtual_agent_id",
    ),
    (("csat",), "event = 'ANSWERED' AND score IS NULL", "score", "required when event is ANSWERED"),
    (
        ("csat",),
        "event = 'FOLLOW_UP_ANSWERED' AND follow_up_answer IS NULL",
        "follow_up_answer",
        "required when event is FOLLOW_UP_ANSWERED",
    ),
    (
        ("presence",),
        "away_state IS NOT NULL AND status <> 'AWAY'",
        "away_state",
        "only allowed when status is AWAY",
    ),
)
