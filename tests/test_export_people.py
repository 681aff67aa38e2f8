"""The people exports (teams, agent-metrics, agent-presence, virtual-agents) on golden scenarios.

Each `golden/people/<scenario>/` holds `records.ndjson`, `requests.json`
(named requests: from, to, tz, as_of, channels) and, per request, the
expected file of each export checked: `<request>/<export>.csv`, computed by
hand (the reasoning is in `golden/people/README.md`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import (
    export_text,
    golden_export,
    golden_files,
    golden_stores,
    ingest_records,
    rows,
)
from record_builders import agent, conversation, inbound, lock, presence, reply, status

GOLDEN = Path(__file__).parent / "golden" / "people"
EXPECTED = golden_files(GOLDEN)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return golden_stores(GOLDEN, tmp_path_factory.mktemp("golden"))


@pytest.mark.parametrize("expected", EXPECTED, ids=[str(p.relative_to(GOLDEN)) for p in EXPECTED])
def test_golden_export_is_byte_exact(
    expected: Path, stores: dict[str, Path], tmp_path: Path
) -> None:
    text = golden_export(expected, stores, tmp_path / "out.csv")
    assert text == expected.read_text(encoding="utf-8")


PT_BR_HEADERS = {
    "teams": "Criado em,ID da equipe,Nome da equipe,Resolve com resposta,Resolve sem resposta,"
    "Tempo médio da primeira resposta,Tempo médio de resolução,Tempo total de manuseio,"
    "Tempo total sem resposta,Tempo total de colheita de cerejas,Tempo médio de manuseio,"
    "Contatos ajudados,CSAT com pontuação 1,CSAT com pontuação 2,CSAT com pontuação 3,"
    "CSAT com pontuação 4,CSAT com pontuação 5,Tags adicionadas,Tópicos adicionados,Respostas",
    "agent-metrics": "ID do usuário,Nome do usuário,Endereço de e-mail do usuário,"
    "Referência do usuário,Tempo (s) disponível (is),Tempo (s) ausente (s),Contatos ajudados,"
    "Média. Tempo (s) de manuseio,Tempo (s) de manuseio,Tempo (s) sem resposta,"
    "Tempo (s) de colheita da cereja,Respostas,Resolve - Com resposta,Resolve - Sem resposta,"
    "Tags adicionadas,Tópicos adicionados,Utilização (%),CSAT com pontuação 1,"
    "CSAT com pontuação 2,CSAT com pontuação 3,CSAT com pontuação 4,CSAT com pontuação 5",
    "agent-presence": "ID do usuário,Nome do usuário,Endereço de e-mail do usuário,Tipo,"
    "Estado ausente,De,Para,Duração (s)",
    "virtual-agents": "ID do agente,Nome do agente,Médio,Canal,Nome de exibição do canal,"
    "Total de conversas,Entrega para o agente,Entrega devido a erro,Resolvido,"
    "Total de conversas com o tópico,Total de mensagens marcadas,Total de tags aplicadas",
}


@pytest.mark.parametrize("export", sorted(PT_BR_HEADERS))
def test_portuguese_headers_and_same_rows(
    export: str, stores: dict[str, Path], tmp_path: Path
) -> None:
    db = stores["session-crossing-presence"]
    en = export_text(db, export, "2024-06-10", "2024-06-10", out=tmp_path / "en.csv")
    pt = export_text(db, export, "2024-06-10", "2024-06-10", lang="pt-BR", out=tmp_path / "pt.csv")
    assert pt.splitlines()[0] == PT_BR_HEADERS[export]
    assert pt.splitlines()[1:] == en.splitlines()[1:]


def test_durations_truncate_and_averages_round_half_away_from_zero(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    ingest_records(
        db,
        [
            agent("ag1", "a1", "Ana"),
            conversation("cv1", "cv-1", "ch-1", "k-1", "06-10 09:00"),
            inbound("i1", "06-10 09:00", "cv-1"),
            presence("p1", "06-10 10:00:00", "a1", "AVAILABLE"),
            lock("l1", "06-10 10:00:00", "cv-1", "a1"),
            reply("m1", "06-10 10:00:00.500", "cv-1", "a1"),
            status("s1", "06-10 10:00:01.005", "cv-1", "RESOLVED", agent_id="a1"),
            presence("p2", "06-10 10:00:03", "a1", "OFFLINE"),
        ],
    )
    [row] = rows(export_text(db, "agent-metrics", "2024-06-10", "2024-06-10"))
    assert row["Handle Time (s)"] == "1"  # 1 005 ms, truncated
    assert row["Avg. Handle Time (s)"] == "1.01"  # 1.005 s, half away from zero
    assert row["Available Time (s)"] == "3"
    assert row["Utilization (%)"] == "33.50"  # 1 005 / 3 000
