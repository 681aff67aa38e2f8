"""The export catalogue: every export definition, registered once."""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef
from cxport.exports.defs.agent_metrics import AGENT_METRICS
from cxport.exports.defs.agent_presence import AGENT_PRESENCE
from cxport.exports.defs.contact_attributes import CONTACT_ATTRIBUTES
from cxport.exports.defs.contacts import CONTACTS
from cxport.exports.defs.messages import MESSAGES
from cxport.exports.defs.open_conversations import OPEN_CONVERSATIONS
from cxport.exports.defs.resolved_conversations import RESOLVED_CONVERSATIONS
from cxport.exports.defs.response_times import RESPONSE_TIMES
from cxport.exports.defs.tags import TAGS
from cxport.exports.defs.teams import TEAMS
from cxport.exports.defs.topics import TOPICS
from cxport.exports.defs.virtual_agents import VIRTUAL_AGENTS

# In the order of exports.md.
EXPORTS: tuple[ExportDef, ...] = (
    RESOLVED_CONVERSATIONS,
    OPEN_CONVERSATIONS,
    MESSAGES,
    TEAMS,
    CONTACTS,
    TOPICS,
    TAGS,
    AGENT_PRESENCE,
    AGENT_METRICS,
    RESPONSE_TIMES,
    VIRTUAL_AGENTS,
    CONTACT_ATTRIBUTES,
)

BY_NAME: dict[str, ExportDef] = {e.name: e for e in EXPORTS}
