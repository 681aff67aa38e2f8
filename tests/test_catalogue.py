"""The catalogue: twelve exports, columns as the spec lists them, docs generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cxport.exports.catalogue_doc import DOC_PATHS, render
from cxport.exports.defs import EXPORTS

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "spec" / "exports.md"


def test_twelve_exports_in_the_order_of_the_spec() -> None:
    spec_names = re.findall(r"^## \d+\. `([a-z-]+)`", SPEC.read_text(encoding="utf-8"), re.M)
    assert [d.name for d in EXPORTS] == spec_names
    assert len(EXPORTS) == 12


def test_column_ids_are_unique_and_headers_filled() -> None:
    for d in EXPORTS:
        ids = [c.id for c in d.columns]
        assert len(ids) == len(set(ids)), d.name
        assert all(c.en and c.pt for c in d.columns), d.name


@pytest.mark.parametrize("lang", sorted(DOC_PATHS))
def test_docs_are_generated_from_the_definitions(lang: str) -> None:
    written = (ROOT / DOC_PATHS[lang]).read_text(encoding="utf-8")
    assert written == render(EXPORTS, lang), "run: make docs"


def _spec_pt_headers() -> dict[str, list[str]]:
    """The pt-BR header lists of exports.md, by export (CSAT5 expanded)."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## \d+\. `([a-z-]+)`", line)
        if heading:
            current = heading.group(1)
        elif line.startswith("pt-BR") and current:
            headers: list[str] = []
            for h in line.split(":", 1)[1].strip().split(", "):
                if h == "CSAT com pontuação 1 … 5":
                    headers += [f"CSAT com pontuação {i}" for i in range(1, 6)]
                else:
                    headers.append(h)
            out[current] = headers
    return out


def test_pt_br_headers_are_those_of_the_spec() -> None:
    spec = _spec_pt_headers()
    assert len(spec) == 11  # open-conversations: "as in 1"
    for d in EXPORTS:
        if d.name in spec:
            assert [c.pt for c in d.columns] == spec[d.name], d.name
    resolved = {c.en: c.pt for c in EXPORTS[0].columns}
    assert all(resolved[c.en] == c.pt for c in EXPORTS[1].columns)
