"""`cxport export EXPORT --describe`: the export's definition in a terminal, no store needed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cxport.cli import main
from cxport.exports.defs import EXPORTS


@pytest.mark.parametrize("lang", ["en", "pt-BR"])
def test_describe_names_every_column_without_a_store(lang: str) -> None:
    for d in EXPORTS:
        result = CliRunner().invoke(main, ["export", d.name, "--describe", "--lang", lang])
        assert result.exit_code == 0, result.output
        for column in d.columns:
            assert f"[{column.id}," in result.stdout, (d.name, column.id)


def test_describe_all_and_the_options_still_required_otherwise() -> None:
    everything = CliRunner().invoke(main, ["export", "all", "--describe"])
    assert everything.exit_code == 0
    assert all(f"({d.name})" in everything.stdout for d in EXPORTS)
    missing = CliRunner().invoke(
        main, ["export", "teams", "--from", "2024-06-01", "--to", "2024-06-02", "--output", "x.csv"]
    )
    assert missing.exit_code == 2 and "Missing option '--db'" in missing.output
    missing = CliRunner().invoke(
        main, ["export", "teams", "--db", "x.duckdb", "--to", "2024-06-02", "--output", "x.csv"]
    )
    assert missing.exit_code == 2 and "Missing option '--from'" in missing.output
