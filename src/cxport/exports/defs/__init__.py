"""The export catalogue: every export definition, registered once."""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef

EXPORTS: tuple[ExportDef, ...] = ()

BY_NAME: dict[str, ExportDef] = {e.name: e for e in EXPORTS}
