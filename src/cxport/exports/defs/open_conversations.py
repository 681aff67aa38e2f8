"""`open-conversations` (exports.md §2).

Rows: conversations whose current status at the snapshot is NEW or PENDING,
on the selected channels; the date range does not filter. Ordered by
Created at, then conversation id.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef
from cxport.exports.defs import conversation_rows as rows

OPEN_CONVERSATIONS = ExportDef(
    name="open-conversations",
    title="Open Conversations",
    columns=rows.OPEN_COLUMNS,
    facts=rows.FACTS,
    scope=rows.OPEN_AT_SNAPSHOT,
    sql=rows.query(
        where="c.current_status IN ('NEW', 'PENDING')",
        order_by="created_at NULLS LAST, conversation_id",
    ),
    date_range_filters=False,
)
