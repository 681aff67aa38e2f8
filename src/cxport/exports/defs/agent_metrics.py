"""`agent-metrics` (exports.md §9): one row per human agent active in the range.

An agent is active with a presence interval overlapping the range or any
credited activity in range (`f_agent_credit`). The channel filter restricts
the credited activity, never the presence time.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns, described, row_rule

RULE = row_rule(
    """
    rows
        en: The metrics collected per human agent for the selected date range: one row per agent
          with a presence interval overlapping the range or any credited activity in range (a
          reply, a lock session, a resolution, a tag or topic applied, a CSAT answer).
        pt: As métricas coletadas por agente humano para o intervalo de tempo selecionado: uma
          linha por agente com um intervalo de presença que se sobrepõe ao período ou alguma
          atividade creditada no período (uma resposta, uma sessão de bloqueio, uma resolução,
          uma tag ou um tópico aplicado, uma resposta de CSAT).
    anchor
        en: Each activity's own time (reply, resolution, tag or topic application, CSAT answer);
          lock sessions and presence intervals overlapping the range, their time clipped to it.
        pt: O momento de cada atividade (resposta, resolução, aplicação de tag ou tópico,
          resposta de CSAT); as sessões de bloqueio e os intervalos de presença que se sobrepõem
          ao período, com o tempo recortado a ele.
    channels
        en: Restricts the activity counted to conversations on the selected channels (replies,
          locks, resolves, tags, topics, CSAT); presence time is never filtered.
        pt: Restringe a atividade contada às conversas dos canais selecionados (respostas,
          bloqueios, resoluções, tags, tópicos, CSAT); o tempo de presença nunca é filtrado.
    order
        en: User Name (agents without a name last), then User ID.
        pt: Nome do usuário (agentes sem nome por último), depois ID do usuário.
    """
)

ABOUT = """
user_id
    en: The unique identifier of the agent.
    pt: O identificador exclusivo do agente.
user_name
    en: The name of the agent.
    pt: O nome do agente.
user_email
    en: The email address of the agent.
    pt: O endereço de e-mail do agente.
user_reference
    en: The internal ID of the agent.
    pt: O ID interno do agente.
available_ms
    en: The total time the agent was available in the selected date range (Available presence
      intervals clipped to the range and to the time of the export).
    pt: O tempo total em que o agente esteve disponível no intervalo de tempo selecionado
      (intervalos de presença Disponível recortados ao período e ao momento da exportação).
away_ms
    en: The total time the agent was away in the selected date range (Away presence intervals
      clipped to the range and to the time of the export).
    pt: O tempo total em que o agente esteve ausente no intervalo de tempo selecionado
      (intervalos de presença Ausente recortados ao período e ao momento da exportação).
contacts_helped
    en: The number of contacts that received at least one message from the agent in range.
    pt: O número de contatos que receberam pelo menos uma mensagem do agente no intervalo.
avg_handle_s
    en: The average time the agent was actively working on conversations (lock): Handle Time
      divided by the number of conversations with a handle session in range.
    pt: O tempo médio em que o agente estava trabalhando ativamente nas conversas (bloqueio): o
      tempo de manuseio dividido pelo número de conversas com uma sessão de manuseio no
      intervalo.
handle_ms
    en: The total time the agent was actively working on conversations (lock): lock sessions in
      which the agent replied, clipped to the range.
    pt: O tempo total em que o agente estava trabalhando ativamente nas conversas (bloqueio): as
      sessões de bloqueio em que o agente respondeu, recortadas ao intervalo.
no_reply_ms
    en: The total time the agent was looking at conversations (lock) and resolved them without
      replying, clipped to the range.
    pt: O tempo total em que o agente estava analisando as conversas (bloqueio) e as resolveu sem
      responder, recortado ao intervalo.
cherry_picking_ms
    en: The total time the agent was viewing conversations (lock) and neither sent replies nor
      resolved them at the end of the lock, clipped to the range.
    pt: O tempo total em que o agente estava vendo as conversas (bloqueio) e não enviou
      respostas nem as resolveu ao fim do bloqueio, recortado ao intervalo.
replies
    en: The total number of messages sent by the agent in range.
    pt: O número total de mensagens enviadas pelo agente no intervalo.
resolves_with_reply
    en: The number of conversations the agent resolved in range that had at least one human
      agent message (by anyone) since their previous resolution; a conversation counts once,
      its latest resolution in range decides.
    pt: O número de conversas resolvidas pelo agente no intervalo com pelo menos uma mensagem de
      saída de agente humano (de qualquer um) desde a resolução anterior; cada conversa conta
      uma vez, decide a sua última resolução no intervalo.
resolves_without_reply
    en: The number of conversations the agent resolved in range without a human agent message
      since their previous resolution; a conversation counts once, its latest resolution in
      range decides.
    pt: O número de conversas resolvidas pelo agente no intervalo sem mensagem de saída de agente
      humano desde a resolução anterior; cada conversa conta uma vez, decide a sua última
      resolução no intervalo.
tags_added
    en: The total number of tags added by the agent in range.
    pt: O número total de tags adicionadas pelo agente no intervalo.
topics_added
    en: The total number of topics added by the agent in range.
    pt: O número total de tópicos adicionados pelo agente no intervalo.
utilization
    en: The agent's overall utilization: the part of the available time during which the agent
      had a conversation locked, in percent; empty without available time. With a channel
      filter, only locks on those channels count, over all available time.
    pt: A porcentagem geral de utilização do agente: a parte do tempo disponível em que o agente
      tinha uma conversa bloqueada, em porcentagem; vazio sem tempo disponível. Com filtro de
      canal, só contam os bloqueios nesses canais, sobre todo o tempo disponível.
csat_1
    en: The total number of customer satisfaction surveys returned for this agent with a score
      of 1 during the selected date range (credited to the agent of the conversation's latest
      earlier resolution).
    pt: O número total de pesquisas de satisfação do cliente retornadas para esse agente com uma
      pontuação de 1 durante o intervalo de tempo selecionado (creditadas ao agente da última
      resolução anterior da conversa).
csat_2
    en: The total number of customer satisfaction surveys returned for this agent with a score
      of 2 during the selected date range (credited to the agent of the conversation's latest
      earlier resolution).
    pt: O número total de pesquisas de satisfação do cliente retornadas para esse agente com uma
      pontuação de 2 durante o intervalo de tempo selecionado (creditadas ao agente da última
      resolução anterior da conversa).
csat_3
    en: The total number of customer satisfaction surveys returned for this agent with a score
      of 3 during the selected date range (credited to the agent of the conversation's latest
      earlier resolution).
    pt: O número total de pesquisas de satisfação do cliente retornadas para esse agente com uma
      pontuação de 3 durante o intervalo de tempo selecionado (creditadas ao agente da última
      resolução anterior da conversa).
csat_4
    en: The total number of customer satisfaction surveys returned for this agent with a score
      of 4 during the selected date range (credited to the agent of the conversation's latest
      earlier resolution).
    pt: O número total de pesquisas de satisfação do cliente retornadas para esse agente com uma
      pontuação de 4 durante o intervalo de tempo selecionado (creditadas ao agente da última
      resolução anterior da conversa).
csat_5
    en: The total number of customer satisfaction surveys returned for this agent with a score
      of 5 during the selected date range (credited to the agent of the conversation's latest
      earlier resolution).
    pt: O número total de pesquisas de satisfação do cliente retornadas para esse agente com uma
      pontuação de 5 durante o intervalo de tempo selecionado (creditadas ao agente da última
      resolução anterior da conversa).
"""

AGENT_METRICS = ExportDef(
    name="agent-metrics",
    title="Agent Metrics",
    title_pt="Métricas dos agentes",
    rule=RULE,
    columns=described(
        columns(
            """
        user_id                | User ID                  | ID do usuário                         | id
        user_name              | User Name                | Nome do usuário                       | text
        user_email             | User Email Address       | Endereço de e-mail do usuário         | text
        user_reference         | User Reference           | Referência do usuário                 | text
        available_ms           | Available Time (s)       | Tempo (s) disponível (is)             | duration
        away_ms                | Away Time (s)            | Tempo (s) ausente (s)                 | duration
        contacts_helped        | Contacts Helped          | Contatos ajudados                     | count
        avg_handle_s           | Avg. Handle Time (s)     | Média. Tempo (s) de manuseio          | decimal2
        handle_ms              | Handle Time (s)          | Tempo (s) de manuseio                 | duration
        no_reply_ms            | No Reply Time (s)        | Tempo (s) sem resposta                | duration
        cherry_picking_ms      | Cherry Picking Time (s)  | Tempo (s) de colheita da cereja       | duration
        replies                | Replies                  | Respostas                             | count
        resolves_with_reply    | Resolves - With Reply    | Resolve - Com resposta                | count
        resolves_without_reply | Resolves - Without Reply | Resolve - Sem resposta                | count
        tags_added             | Tags Added               | Tags adicionadas                      | count
        topics_added           | Topics Added             | Tópicos adicionados                   | count
        utilization            | Utilization (%)          | Utilização (%)                        | decimal2
        csat_1                 | CSAT Score 1             | CSAT com pontuação 1                  | count
        csat_2                 | CSAT Score 2             | CSAT com pontuação 2                  | count
        csat_3                 | CSAT Score 3             | CSAT com pontuação 3                  | count
        csat_4                 | CSAT Score 4             | CSAT com pontuação 4                  | count
        csat_5                 | CSAT Score 5             | CSAT com pontuação 5                  | count
        """
        ),
        ABOUT,
    ),
    facts=("f_agent_credit", "f_agent_presence_time"),
    sql="""
    WITH agents AS (
        SELECT agent_id FROM f_agent_credit
        UNION
        SELECT agent_id FROM f_agent_presence_time
    )
    SELECT g.agent_id AS user_id, a.name AS user_name, a.email AS user_email,
           a.reference AS user_reference,
           coalesce(t.available_ms, 0) AS available_ms,
           coalesce(t.away_ms, 0) AS away_ms,
           coalesce(c.contacts_helped, 0) AS contacts_helped,
           CASE WHEN c.handled_conversations > 0
                THEN c.handle_ms / 1000.0 / c.handled_conversations END AS avg_handle_s,
           coalesce(c.handle_ms, 0) AS handle_ms,
           coalesce(c.no_reply_ms, 0) AS no_reply_ms,
           coalesce(c.cherry_picking_ms, 0) AS cherry_picking_ms,
           coalesce(c.replies, 0) AS replies,
           coalesce(c.resolves_with_reply, 0) AS resolves_with_reply,
           coalesce(c.resolves_without_reply, 0) AS resolves_without_reply,
           coalesce(c.tags_added, 0) AS tags_added,
           coalesce(c.topics_added, 0) AS topics_added,
           CASE WHEN t.available_ms > 0
                THEN t.utilized_ms * 100.0 / t.available_ms END AS utilization,
           coalesce(c.csat_1, 0) AS csat_1,
           coalesce(c.csat_2, 0) AS csat_2,
           coalesce(c.csat_3, 0) AS csat_3,
           coalesce(c.csat_4, 0) AS csat_4,
           coalesce(c.csat_5, 0) AS csat_5
    FROM agents AS g
    LEFT JOIN e_agent AS a ON a.agent_id = g.agent_id
    LEFT JOIN f_agent_credit AS c ON c.agent_id = g.agent_id
    LEFT JOIN f_agent_presence_time AS t ON t.agent_id = g.agent_id
    """,
    order="nullif(user_name, '') NULLS LAST, user_id",
)
