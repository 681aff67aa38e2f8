"""`resolved-conversations` (exports.md §1).

Rows: conversations whose first resolution is in range, on the selected
channels. Content is as at the snapshot: the Resolved/Resolve columns show
the last resolution, and rows are ordered by it (then by conversation id).
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef
from cxport.exports.defs import conversation_rows as rows

RESOLVED_CONVERSATIONS = ExportDef(
    name="resolved-conversations",
    title="Resolved Conversations",
    columns=rows.RESOLVED_COLUMNS,
    facts=rows.FACTS,
    scope=rows.FIRST_RESOLVED_IN_RANGE,
    sql=rows.query(
        where="c.first_resolution_at >= r.start_at AND c.first_resolution_at < r.end_at",
        order_by="resolved_at NULLS LAST, conversation_id",
    ),
)
