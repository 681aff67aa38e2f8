"""The export catalogue: every export definition, registered once."""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef
from cxport.exports.defs.agent_presence import AGENT_PRESENCE
from cxport.exports.defs.virtual_agents import VIRTUAL_AGENTS

EXPORTS: tuple[ExportDef, ...] = (AGENT_PRESENCE, VIRTUAL_AGENTS)

BY_NAME: dict[str, ExportDef] = {e.name: e for e in EXPORTS}
