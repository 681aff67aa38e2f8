"""`teams` (exports.md §4): one row per team credited with activity in the range.

Credit comes from `f_team_credit` (replies, lock sessions, resolutions, tags,
topics, CSAT answers, each by its `team_id`). The two averages are over
conversations: first response time where the first-response end message is
in range and carries the team, resolution time where the first resolution
is in range and carries the team.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns, described, row_rule

RULE = row_rule(
    """
    rows
        en: One row per team credited with any activity in the selected date range: a reply, a
          lock session, a resolution, a tag or topic applied, or a CSAT answer.
        pt: Uma linha por equipe creditada com alguma atividade no intervalo de tempo
          selecionado: uma resposta, uma sessão de bloqueio, uma resolução, uma tag ou um tópico
          aplicado, ou uma resposta de CSAT.
    anchor
        en: Each activity's own time: the reply, the resolution, the tag or topic application and
          the CSAT answer in range; lock sessions overlapping the range, clipped to it. The
          averages: the first human reply (first response) or the first resolution in range.
        pt: O momento de cada atividade: a resposta, a resolução, a aplicação da tag ou do
          tópico e a resposta de CSAT no intervalo; as sessões de bloqueio que se sobrepõem ao
          intervalo, recortadas a ele. As médias: a primeira resposta humana (primeira resposta)
          ou a primeira resolução no intervalo.
    channels
        en: Counts only the activity in conversations on the selected channels; activity whose
          channel is unknown counts only without a filter.
        pt: Conta só a atividade em conversas dos canais selecionados; a atividade de canal
          desconhecido conta só sem filtro de canal.
    order
        en: Team Name (teams without a name last), then Team ID.
        pt: Nome da equipe (equipes sem nome por último), depois ID da equipe.
    """
)

ABOUT = """
created_at
    en: The date the team was created (its earliest team record).
    pt: A data em que a equipe foi criada (o seu primeiro registro de equipe).
team_id
    en: The unique identifier of the team that was active.
    pt: O identificador exclusivo da equipe que esteve ativa.
team_name
    en: The team that was active.
    pt: A equipe que esteve ativa.
resolves_with_reply
    en: The number of conversations resolved in range with this team (whoever resolved them) that
      had at least one human agent message since their previous resolution; a conversation
      counts once, its latest resolution in range decides.
    pt: O número de conversas resolvidas no intervalo com esta equipe (quem quer que as tenha
      resolvido) que tiveram pelo menos uma mensagem de saída de agente humano desde a resolução
      anterior; cada conversa conta uma vez, decide a sua última resolução no intervalo.
resolves_without_reply
    en: The number of conversations resolved in range with this team without a human agent
      message since their previous resolution; a conversation counts once, its latest
      resolution in range decides.
    pt: O número de conversas resolvidas no intervalo com esta equipe sem mensagem de saída de
      agente humano desde a resolução anterior; cada conversa conta uma vez, decide a sua última
      resolução no intervalo.
avg_first_response_s
    en: The average first response time (business hours) of the conversations whose first human
      reply is in range and carries this team; conversations without a first response time are
      left out.
    pt: O tempo médio de primeira resposta (em horário comercial) das conversas cuja primeira
      resposta humana está no intervalo e é desta equipe; conversas sem tempo de primeira
      resposta ficam de fora.
avg_resolution_s
    en: The average resolution time of the conversations whose first resolution is in range and
      carries this team.
    pt: O tempo médio de resolução das conversas cuja primeira resolução está no intervalo e é
      desta equipe.
handle_ms
    en: The total time the team's agents were actively working on conversations (lock): lock
      sessions with a reply, by the team of the lock, clipped to the range.
    pt: O tempo total em que os agentes dessa equipe trabalharam ativamente nas conversas
      (bloqueio): as sessões de bloqueio com resposta, pela equipe do bloqueio, recortadas ao
      intervalo.
no_reply_ms
    en: The total time the team's agents were looking at conversations (lock) and resolved them
      without any reply, clipped to the range.
    pt: O tempo total que os agentes dessa equipe estavam analisando as conversas (bloqueio) e as
      resolveram sem nenhuma resposta, recortado ao intervalo.
cherry_picking_ms
    en: The total time the team's agents were looking at conversations (lock) and neither sent
      a reply nor resolved them at the end of the lock, clipped to the range.
    pt: O tempo total em que os agentes dessa equipe estavam analisando as conversas (bloqueio)
      e não enviaram nenhuma resposta nem as resolveram ao fim do bloqueio, recortado ao
      intervalo.
avg_handle_s
    en: The average time the team's agents were actively working on conversations (lock): Total
      Handle Time divided by the number of conversations with a handle session in range.
    pt: O tempo médio que os agentes dessa equipe trabalhavam ativamente nas conversas
      (bloqueio): o tempo total de manuseio dividido pelo número de conversas com uma sessão de
      manuseio no intervalo.
contacts_helped
    en: The number of contacts that received at least one message from an agent of this team in
      range.
    pt: O número de contatos que receberam pelo menos uma mensagem de um agente dessa equipe no
      intervalo.
csat_1
    en: The total number of customer satisfaction surveys returned with a score of 1 during the
      selected date range (credited to the team of the conversation's latest earlier
      resolution).
    pt: O número total de pesquisas de satisfação do cliente retornadas com uma pontuação de 1
      durante o intervalo de tempo selecionado (creditadas à equipe da última resolução anterior
      da conversa).
csat_2
    en: The total number of customer satisfaction surveys returned with a score of 2 during the
      selected date range (credited to the team of the conversation's latest earlier
      resolution).
    pt: O número total de pesquisas de satisfação do cliente retornadas com uma pontuação de 2
      durante o intervalo de tempo selecionado (creditadas à equipe da última resolução anterior
      da conversa).
csat_3
    en: The total number of customer satisfaction surveys returned with a score of 3 during the
      selected date range (credited to the team of the conversation's latest earlier
      resolution).
    pt: O número total de pesquisas de satisfação do cliente retornadas com uma pontuação de 3
      durante o intervalo de tempo selecionado (creditadas à equipe da última resolução anterior
      da conversa).
csat_4
    en: The total number of customer satisfaction surveys returned with a score of 4 during the
      selected date range (credited to the team of the conversation's latest earlier
      resolution).
    pt: O número total de pesquisas de satisfação do cliente retornadas com uma pontuação de 4
      durante o intervalo de tempo selecionado (creditadas à equipe da última resolução anterior
      da conversa).
csat_5
    en: The total number of customer satisfaction surveys returned with a score of 5 during the
      selected date range (credited to the team of the conversation's latest earlier
      resolution).
    pt: O número total de pesquisas de satisfação do cliente retornadas com uma pontuação de 5
      durante o intervalo de tempo selecionado (creditadas à equipe da última resolução anterior
      da conversa).
tags_added
    en: The total number of tags added with this team in range.
    pt: O número total de tags adicionadas por esta equipe no intervalo.
topics_added
    en: The total number of topics added with this team in range.
    pt: O número total de tópicos adicionados por essa equipe no intervalo.
replies
    en: The total number of messages sent by this team's human agents in range.
    pt: O número total de mensagens enviadas por agentes humanos dessa equipe no intervalo.
"""

TEAMS = ExportDef(
    name="teams",
    title="Teams",
    title_pt="Equipes",
    rule=RULE,
    columns=described(
        columns(
            """
        created_at             | Created at                      | Criado em                          | timestamp
        team_id                | Team ID                         | ID da equipe                       | id
        team_name              | Team Name                       | Nome da equipe                     | text
        resolves_with_reply    | Resolves With Reply             | Resolve com resposta               | count
        resolves_without_reply | Resolves Without Reply          | Resolve sem resposta               | count
        avg_first_response_s   | Average First Response Time (s) | Tempo médio da primeira resposta   | decimal2
        avg_resolution_s       | Average Resolution Time (s)     | Tempo médio de resolução           | decimal2
        handle_ms              | Total Handle Time (s)           | Tempo total de manuseio            | duration
        no_reply_ms            | Total No Reply Time (s)         | Tempo total sem resposta           | duration
        cherry_picking_ms      | Total Cherry Picking Time (s)   | Tempo total de colheita de cerejas | duration
        avg_handle_s           | Average Handle Time (s)         | Tempo médio de manuseio            | decimal2
        contacts_helped        | Contacts Helped                 | Contatos ajudados                  | count
        csat_1                 | CSAT Score 1                    | CSAT com pontuação 1               | count
        csat_2                 | CSAT Score 2                    | CSAT com pontuação 2               | count
        csat_3                 | CSAT Score 3                    | CSAT com pontuação 3               | count
        csat_4                 | CSAT Score 4                    | CSAT com pontuação 4               | count
        csat_5                 | CSAT Score 5                    | CSAT com pontuação 5               | count
        tags_added             | Tags Added                      | Tags adicionadas                   | count
        topics_added           | Topics Added                    | Tópicos adicionados                | count
        replies                | Replies                         | Respostas                          | count
        """
        ),
        ABOUT,
    ),
    facts=("f_team_credit", "f_first_response", "f_first_resolution"),
    sql="""
    WITH first_response AS (
        SELECT f.end_team_id AS team_id, avg(f.business_ms) AS avg_ms
        FROM f_first_response AS f CROSS JOIN req AS r
        WHERE f.end_team_id IS NOT NULL AND f.end_at >= r.start_at AND f.end_at < r.end_at
          AND (NOT r.filtered OR f.channel_id IN (SELECT channel_id FROM req_channel))
        GROUP BY f.end_team_id
    ),
    resolution AS (
        SELECT c.team_id, avg(c.resolution_ms) AS avg_ms
        FROM f_first_resolution AS c CROSS JOIN req AS r
        WHERE c.team_id IS NOT NULL AND c.resolved_at >= r.start_at AND c.resolved_at < r.end_at
          AND (NOT r.filtered OR c.channel_id IN (SELECT channel_id FROM req_channel))
        GROUP BY c.team_id
    ),
    created AS (
        SELECT s.team_id, min(s.at) AS created_at FROM s_team AS s GROUP BY s.team_id
    )
    SELECT k.created_at, c.team_id, t.name AS team_name,
           c.resolves_with_reply, c.resolves_without_reply,
           f.avg_ms / 1000.0 AS avg_first_response_s,
           v.avg_ms / 1000.0 AS avg_resolution_s,
           c.handle_ms, c.no_reply_ms, c.cherry_picking_ms,
           CASE WHEN c.handled_conversations > 0
                THEN c.handle_ms / 1000.0 / c.handled_conversations END AS avg_handle_s,
           c.contacts_helped, c.csat_1, c.csat_2, c.csat_3, c.csat_4, c.csat_5,
           c.tags_added, c.topics_added, c.replies
    FROM f_team_credit AS c
    LEFT JOIN e_team AS t ON t.team_id = c.team_id
    LEFT JOIN created AS k ON k.team_id = c.team_id
    LEFT JOIN first_response AS f ON f.team_id = c.team_id
    LEFT JOIN resolution AS v ON v.team_id = c.team_id
    """,
    order="nullif(team_name, '') NULLS LAST, team_id",
)
