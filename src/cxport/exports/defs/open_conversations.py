"""`open-conversations` (exports.md §2).

Rows: conversations whose current status at the snapshot is NEW or PENDING,
on the selected channels; the date range does not filter. Ordered by
Created at, then conversation id.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, row_rule
from cxport.exports.defs import conversation_rows as rows

OPEN_CONVERSATIONS = ExportDef(
    name="open-conversations",
    title="Open Conversations",
    title_pt="Conversas abertas",
    columns=rows.OPEN_COLUMNS,
    facts=rows.FACTS,
    rule=row_rule(
        """
        rows
            en: All conversations with the status New or Pending at the time of the export (also
              those that never changed status): one row per conversation, with the data it had
              then.
            pt: Todas as conversas com o status Novo ou Pendente no momento da exportação (também
              as que nunca mudaram de status): uma linha por conversa, com dados que estavam
              disponíveis para a conversa no momento da exportação.
        anchor
            en: None: the date range does not filter (it only names the file); the status at the
              time of the export decides.
            pt: Nenhum: o intervalo de datas não filtra (só dá nome ao arquivo); decide o status
              no momento da exportação.
        order
            en: Created at, then Conversation ID.
            pt: Criado em, depois ID da conversa.
        """,
        rows.CHANNELS,
    ),
    scope=rows.OPEN_AT_SNAPSHOT,
    sql=rows.query(where="c.current_status IN ('NEW', 'PENDING')"),
    order="created_at NULLS LAST, conversation_id",
    date_range_filters=False,
)
