"""`resolved-conversations` (exports.md §1).

Rows: conversations whose first resolution is in range, on the selected
channels. Content is as at the snapshot: the Resolved/Resolve columns show
the last resolution, and rows are ordered by it (then by conversation id).
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, row_rule
from cxport.exports.defs import conversation_rows as rows

RESOLVED_CONVERSATIONS = ExportDef(
    name="resolved-conversations",
    title="Resolved Conversations",
    title_pt="Conversas resolvidas",
    columns=rows.RESOLVED_COLUMNS,
    facts=rows.FACTS,
    rule=row_rule(
        """
        rows
            en: All conversations resolved for the first time in the selected date range: one row
              per conversation, with the data it had at the time of the export.
            pt: Todas as conversas que são resolvidas pela primeira vez no intervalo de tempo
              selecionado: uma linha por conversa, com dados que estavam disponíveis para a
              conversa no momento da exportação.
        anchor
            en: The first resolution (the earliest change of status to Resolved). A conversation
              resolved again later stays in this range's file, showing its last resolution, and
              is in no later file.
            pt: A primeira resolução (a primeira alteração de status para Resolvido). Uma conversa
              resolvida de novo depois continua no arquivo deste intervalo, mostrando a sua última
              resolução, e não entra em arquivos posteriores.
        order
            en: Resolved at (the last resolution), then Conversation ID.
            pt: Resolvido em (a última resolução), depois ID da conversa.
        """,
        rows.CHANNELS,
    ),
    scope=rows.FIRST_RESOLVED_IN_RANGE,
    sql=rows.query(
        where="c.first_resolution_at >= r.start_at AND c.first_resolution_at < r.end_at"
    ),
    order="resolved_at NULLS LAST, conversation_id",
)
