"""`agent-presence` (exports.md §8): presence intervals overlapping the range, whole.

Channels do not filter: presence belongs to no conversation.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns, described, row_rule

RULE = row_rule(
    """
    rows
        en: All presence intervals of agents that overlap the selected date range, whole: an
          interval that starts or ends outside the range is included, not clipped. One row per
          interval; an Available or Away event starts one, which ends at the agent's next
          presence event (Offline starts none).
        pt: Todos os intervalos de presença dos agentes que se sobrepõem ao intervalo de tempo
          selecionado, inteiros: um intervalo que começa ou termina fora do período é incluído,
          sem recorte. Uma linha por intervalo; um evento Disponível ou Ausente inicia um, que
          termina no próximo evento de presença do agente (Offline não inicia nenhum).
    anchor
        en: The presence interval's overlap with the range: it starts before the range ends and
          ends after the range starts (or starts inside it). An open interval runs to the time
          of the export.
        pt: A sobreposição do intervalo de presença com o período: começa antes do fim do
          período e termina depois do seu início (ou começa dentro dele). Um intervalo aberto vai
          até o momento da exportação.
    channels
        en: Does not filter: presence belongs to no conversation.
        pt: Não filtra: a presença não pertence a nenhuma conversa.
    order
        en: From, then User ID, then the presence record that starts the interval.
        pt: De, depois ID do usuário, depois o registro de presença que inicia o intervalo.
    """
)

ABOUT = """
user_id
    en: The unique ID of the agent.
    pt: O ID exclusivo do agente.
user_name
    en: The name of the agent.
    pt: O nome do agente.
user_email
    en: The email address of the agent.
    pt: O endereço de e-mail do agente.
status
    en: The type of presence (AVAILABLE or AWAY).
    pt: O tipo de presença (AVAILABLE ou AWAY).
away_state
    en: The name of the custom away state (Away only).
    pt: O nome do estado ausente personalizado (só com AWAY).
from_at
    en: The start date and time (the presence event that starts the interval).
    pt: A data e a hora de início (o evento de presença que inicia o intervalo).
to_at
    en: The end date and time (the agent's next presence event); empty while the interval is
      still open.
    pt: A data e a hora de término (o próximo evento de presença do agente); vazio enquanto o
      intervalo estiver aberto.
duration_ms
    en: How long the agent was in this type of presence: the whole interval, not clipped to the
      range; an open interval up to the time of the export.
    pt: Há quanto tempo o agente está nesse tipo de presença: o intervalo inteiro, sem recorte ao
      período; um intervalo aberto até o momento da exportação.
"""

AGENT_PRESENCE = ExportDef(
    name="agent-presence",
    title="Agent Presence",
    title_pt="Presença dos agentes",
    rule=RULE,
    columns=described(
        columns(
            """
        user_id     | User ID                | ID do usuário                  | id
        user_name   | User Name              | Nome do usuário                | text
        user_email  | User Email Address     | Endereço de e-mail do usuário  | text
        status      | Type                   | Tipo                           | code
        away_state  | Away State             | Estado ausente                 | text
        from_at     | From                   | De                             | timestamp
        to_at       | To                     | Para                           | timestamp
        duration_ms | Duration (s)           | Duração (s)                    | duration
        """
        ),
        ABOUT,
    ),
    facts=("f_presence_interval",),
    sql="""
    SELECT p.agent_id AS user_id, a.name AS user_name, a.email AS user_email,
           p.status, p.away_state, p.started_at AS from_at, p.ended_at AS to_at, p.duration_ms,
           p.record_id AS sort_record_id
    FROM f_presence_interval AS p
    CROSS JOIN req AS r
    LEFT JOIN e_agent AS a ON a.agent_id = p.agent_id
    WHERE p.started_at < r.end_at AND (p.until_at > r.start_at OR p.started_at >= r.start_at)
    """,
    order="from_at, user_id, sort_record_id",
)
