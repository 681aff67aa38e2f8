"""How the store keeps each kept fact (`kept.py`): data, one row per fact.

A fact is kept when no request changes it: it reads no request table but
`req.as_of`, and past the workspace's last record it changes with `as_of`
only as its `at_as_of` says. `Fact` says what a fact is; this table says how
its copy is stored, brought to a request's `as_of`, and refreshed by what a
batch touched (`kept_plan.py`). The planner (`plan.py`) reads a copy
instead of computing the fact when the kept facts are current.
"""

from __future__ import annotations

from dataclasses import dataclass

from cxport.exports.facts import Fact
from cxport.exports.facts import activity as _activity
from cxport.exports.facts import attribution as _attribution
from cxport.exports.facts import business_hours as _hours
from cxport.exports.facts import contacts as _contacts
from cxport.exports.facts import episodes as _episodes
from cxport.exports.facts import first_response as _first_response
from cxport.exports.facts import locks as _locks
from cxport.exports.facts import presence as _presence
from cxport.exports.facts import summary as _summary
from cxport.exports.facts import tagging as _tagging
from cxport.exports.facts import timeline as _timeline
from cxport.exports.kept_plan import (
    TOUCHED_AGENT,
    TOUCHED_BY_KIND,
    TOUCHED_CONTACT,
    TOUCHED_CONTACT_CONVERSATION,
    TOUCHED_CONVERSATION,
    TOUCHED_MESSAGE,
)

KEPT_ROWS = "kept_rows"  # what `Keep.at_as_of` reads: the kept copy's rows


@dataclass(frozen=True)
class Keep:
    """How the store keeps one fact: a fact that reads no request table but
    `req.as_of`, and past the workspace's last record changes with `as_of`
    only as `at_as_of` says."""

    fact: Fact
    # Refreshed by what a batch touched (`kept_plan.py`): which kept rows a
    # batch's records may change, as a condition on the fact's columns over the
    # touched keys (`TOUCHED_*`). The rows meeting it are computed again (the
    # same SQL, over the touched conversations' records: the `c_*` views) and
    # replace the kept ones. None: a fact built in Python, built whole each time.
    # A tuple: alternatives (any of them), each a conjunction that one semi-join
    # runs; the refresh deletes the kept rows of each by itself (a CASE or an
    # OR over two keys scans and tests every kept row instead).
    touched: str | tuple[str, ...] | None = None
    # A SELECT over `kept_rows` (the kept rows: a name the planner binds to the
    # kept copy, `at_as_of_text`) giving the fact at the request's `as_of`
    # (None: as kept).
    at_as_of: str | None = None
    # The kept copy's rows are stored in this order (an ORDER BY list): the one
    # its export sorts by, which then sorts rows already in order, much faster;
    # or the instant a range filters on, whose row groups it then skips.
    order: str | None = None
    # Requirements this fact reads beyond their touched rows: every row meeting
    # this fact's own `touched` condition (on the requirement's columns: the
    # fact's touched rows depend only on those), kept or new. They must be stored.
    reads_whole: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.fact.name

    @property
    def touched_sql(self) -> str | None:
        """`touched` as one condition (alternatives joined by OR)."""
        if self.touched is None or isinstance(self.touched, str):
            return self.touched
        return " OR ".join(f"({c})" for c in self.touched)

    @property
    def touched_any(self) -> tuple[str, ...]:
        """`touched` as alternatives (one when it is one condition)."""
        if self.touched is None:
            return ()
        return (self.touched,) if isinstance(self.touched, str) else self.touched


_CONVERSATION, _CONTACT = TOUCHED_CONVERSATION, TOUCHED_CONTACT
# The kept facts: every fact no request changes (see above).
KEEP: dict[str, Keep] = {
    k.name: k
    for k in (
        # Every conversation of a touched contact too: the contact's message span reads them.
        Keep(_timeline.CONVERSATION_ENTITY, TOUCHED_CONTACT_CONVERSATION),
        Keep(_timeline.STATUS_CHANGE, _CONVERSATION),
        Keep(_timeline.CONVERSATION_MESSAGES, _CONVERSATION),
        Keep(_timeline.CONVERSATION, _CONVERSATION),
        Keep(_locks.LOCK_SESSION, _CONVERSATION, at_as_of=_locks.LOCK_SESSION_AT_AS_OF),
        Keep(_locks.CONVERSATION_LOCK_TIME, _CONVERSATION),
        Keep(_hours.BUSINESS_INTERVAL),
        Keep(_hours.BUSINESS_CHANNEL),
        Keep(_hours.BUSINESS_CLOCK),
        Keep(_contacts.CONTACT_ENTITY, _CONTACT),
        Keep(  # contact-attributes' order
            _contacts.CONTACT_ATTRIBUTE_VALUE,
            _CONTACT,
            order="contact_profile_id, nullif(attribute_name, '') NULLS LAST, attribute_id",
        ),
        Keep(_contacts.CONTACT_CARD, _CONTACT),
        Keep(_first_response.FIRST_RESPONSE, _CONVERSATION),
        Keep(  # agent-presence's order
            _presence.PRESENCE_INTERVAL,
            TOUCHED_AGENT,
            at_as_of=_presence.PRESENCE_AT_AS_OF,
            order="started_at, agent_id, record_id",
        ),
        Keep(
            _presence.AGENT_UTILIZED,
            TOUCHED_AGENT,
            order="from_at",
            reads_whole=(_locks.LOCK_SESSION.name,),
        ),
        Keep(_tagging.CONVERSATION_TOPIC, _CONVERSATION),
        Keep(_tagging.MESSAGE_TAG, TOUCHED_MESSAGE),
        Keep(_tagging.MESSAGE_TAG_LIST, TOUCHED_MESSAGE),
        Keep(_tagging.TOPIC_APPLICATION, _CONVERSATION, order="applied_at"),
        Keep(_tagging.TAG_APPLICATION, TOUCHED_MESSAGE, order="applied_at"),
        Keep(_attribution.REPLY, _CONVERSATION, order="sent_at"),
        Keep(_attribution.RESOLUTION, _CONVERSATION, order="resolved_at"),
        Keep(_attribution.CSAT_ANSWER, _CONVERSATION, order="answered_at"),
        Keep(_attribution.LABEL_ADDED, TOUCHED_BY_KIND, order="added_at"),
        Keep(_attribution.FIRST_RESOLUTION, _CONVERSATION, order="resolved_at"),
        Keep(_attribution.VA_ACTIVITY, TOUCHED_BY_KIND, order="act_at"),
        Keep(_activity.CONVERSATION_MESSAGE_SPAN, _CONTACT),
        Keep(_activity.CONTACT_ACTIVITY, _CONTACT, order="created_at, contact_profile_id"),
        Keep(  # response-times' order
            _episodes.RESPONSE_EPISODE, _CONVERSATION, order="to_at, outbound_message_id"
        ),
        Keep(_summary.CONVERSATION_SUMMARY, _CONVERSATION),
    )
}


def at_as_of_text(keep: Keep, table: str) -> str:
    """The SELECT giving `keep`'s fact at the request's `as_of` from its copy `table`
    (`kept_rows`, a common table expression: no text is substituted)."""
    if keep.at_as_of is None:
        return f"SELECT * FROM {table}"
    return f"WITH {KEPT_ROWS} AS (SELECT * FROM {table}) {keep.at_as_of.strip()}"
