"""The tunable rates of a simulation, and what a run reports back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields

from cxport.errors import UsageError


@dataclass(frozen=True)
class SimOptions:
    """Rates of the simulated operation. Each `*_rate` is a probability in [0, 1].

    The defaults describe a mid-sized Brazilian retail contact centre; every
    behaviour the record format can express happens at least a few times
    with them on a few thousand conversations.
    """

    # Arrivals
    daily_rhythm: float = 1.0  # 0 = flat over the day, 1 = realistic peaks
    weekly_rhythm: float = 1.0  # 0 = every day alike, 1 = quiet weekends and holidays
    returning_contact_rate: float = 0.35  # a conversation comes from a known contact
    proactive_rate: float = 0.04  # conversations opened by an outbound proactive message
    proactive_reply_rate: float = 0.5  # ... that the contact answers
    follow_up_inbound_rate: float = 0.4  # the contact sends a second message right away
    # Virtual agents (on the channels that have one)
    va_resolve_rate: float = 0.35  # the virtual agent resolves without a human
    va_error_rate: float = 0.15  # of handovers, the ones with reason ERROR
    # System messages
    auto_responder_rate: float = 0.25  # in business hours (out of hours: always)
    automation_reminder_rate: float = 0.3  # reminder on conversations pending a day
    # Human agents
    cherry_pick_rate: float = 0.06  # a lock opened, looked at, left without reply
    steal_rate: float = 0.02  # another agent takes the lock over
    no_reply_resolve_rate: float = 0.04  # resolved without any reply (spam, duplicates)
    pending_rate: float = 0.30  # the agent sets PENDING (waiting for the contact)
    leave_new_rate: float = 0.06  # the agent unlocks and leaves it NEW (transfer)
    exchange_rate: float = 0.45  # the contact answers inside the session, another reply
    native_reply_rate: float = 0.03  # agent replies sent from the native app
    api_reply_rate: float = 0.03  # agent replies sent through the API
    nudge_rate: float = 0.3  # a waiting contact writes again before pickup
    # After the session
    customer_return_rate: float = 0.55  # a PENDING conversation gets an answer
    reopen_rate: float = 0.08  # a resolved conversation gets a new inbound message
    agent_reopen_rate: float = 0.02  # an agent reopens a resolved conversation
    bulk_resolve_rate: float = 0.6  # stale pending conversations of bulk channels
    # Classification
    topic_rate: float = 0.55
    topic_remove_rate: float = 0.08
    tag_rate: float = 0.2
    tag_remove_rate: float = 0.15
    automation_tag_rate: float = 0.05
    # CSAT
    csat_rate: float = 0.6  # survey sent after a resolution (CSAT channels)
    csat_answer_rate: float = 0.45
    csat_follow_up_rate: float = 0.5
    # Contacts and content
    attribute_rate: float = 0.6  # a new contact gets attributes
    attribute_change_rate: float = 0.08  # an attribute changes or is cleared later
    contact_update_rate: float = 0.02  # a contact entity gets a second version
    delete_rate: float = 0.01  # a message is deleted afterwards
    tricky_content_rate: float = 0.03  # commas, quotes, line breaks, emoji, =+-@ starts
    # Staff
    agents_per_team: int | None = None  # None: sized from the volume
    utilization_target: float = 0.45  # how busy the sized staff is on average
    absence_rate: float = 0.03  # an agent misses a working day
    offline_blip_rate: float = 0.08  # an agent drops OFFLINE for a few minutes in a shift
    entity_changes: bool = True  # renames, deactivations, late channels and hires

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise UsageError(f"{f.name} must be between 0 and 1, got {value!r}")
        for name in ("daily_rhythm", "weekly_rhythm"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UsageError(f"{name} must be between 0 and 1")
        if not 0.05 <= self.utilization_target <= 0.95:
            raise UsageError("utilization_target must be between 0.05 and 0.95")
        if self.agents_per_team is not None and self.agents_per_team < 1:
            raise UsageError("agents_per_team must be at least 1")
        if self.pending_rate + self.leave_new_rate + self.no_reply_resolve_rate > 1.0:
            raise UsageError(
                "pending_rate + leave_new_rate + no_reply_resolve_rate must not exceed 1"
            )


@dataclass
class SimSummary:
    """What `simulate` wrote."""

    out: str
    seed: int
    start: dt.date
    days: int
    conversations: int
    records: dict[str, int] = field(default_factory=dict)  # records written, per type

    @property
    def total(self) -> int:
        return sum(self.records.values())
