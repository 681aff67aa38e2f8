"""The list of every derived fact (each module defines its own)."""

from __future__ import annotations

from cxport.exports.facts import Fact, activity, attribution, episodes, presence, tagging

ALL_FACTS: tuple[Fact, ...] = (
    *presence.FACTS,
    *tagging.FACTS,
    *attribution.FACTS,
    *activity.FACTS,
    *episodes.FACTS,
)
