"""The list of every derived fact (each module defines its own)."""

from __future__ import annotations

from cxport.exports.facts import (
    Fact,
    activity,
    attribution,
    business_hours,
    contacts,
    credit,
    episodes,
    first_response,
    locks,
    presence,
    summary,
    tagging,
    timeline,
)

ALL_FACTS: tuple[Fact, ...] = (
    *timeline.FACTS,
    *locks.FACTS,
    *business_hours.FACTS,
    *contacts.FACTS,
    *first_response.FACTS,
    *presence.FACTS,
    *tagging.FACTS,
    *attribution.FACTS,
    *credit.FACTS,
    *activity.FACTS,
    *episodes.FACTS,
    *summary.FACTS,
)
