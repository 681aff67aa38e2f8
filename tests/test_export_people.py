"""The people exports (teams, agent-metrics, agent-presence, virtual-agents) on golden scenarios.

Each `golden/people/<scenario>/` holds `records.ndjson`, `requests.json`
(named requests: from, to, tz, as_of, channels) and, per request, the
expected file of each export checked: `<request>/<export>.csv`, computed by
hand (the reasoning is in `golden/people/README.md`).
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from helpers import export_text, ingest_records

GOLDEN = Path(__file__).parent / "golden" / "people"
EXPECTED = sorted(GOLDEN.glob("*/*/*.csv"))


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for scenario in sorted(p for p in GOLDEN.iterdir() if p.is_dir()):
        db = tmp_path_factory.mktemp(scenario.name) / "store.duckdb"
        lines = (scenario / "records.ndjson").read_bytes().splitlines()
        ingest_records(db, [orjson.loads(line) for line in lines if line.strip()])
        out[scenario.name] = db
    return out


@pytest.mark.parametrize("expected", EXPECTED, ids=[str(p.relative_to(GOLDEN)) for p in EXPECTED])
def test_golden_export_is_byte_exact(
    expected: Path, stores: dict[str, Path], tmp_path: Path
) -> None:
    scenario = expected.parent.parent
    request = json.loads((scenario / "requests.json").read_text())[expected.parent.name]
    text = export_text(
        stores[scenario.name],
        expected.stem,
        request["from"],
        request["to"],
        tz=request["tz"],
        as_of=request["as_of"],
        channels=tuple(request.get("channels", ())),
        out=tmp_path / "out.csv",
    )
    assert text == expected.read_text(encoding="utf-8")
