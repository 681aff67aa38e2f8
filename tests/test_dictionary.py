"""The data dictionary: every column described and every row rule stated, in both languages."""

from __future__ import annotations

import json

import pytest

from cxport.errors import UsageError
from cxport.exports.catalogue import ColType, Column, described, row_rule
from cxport.exports.catalogue_doc import DOC_PATHS
from cxport.exports.defs import EXPORTS
from cxport.exports.dictionary import LANGS, WIDTH, catalogue_document, describe

NAMES = [d.name for d in EXPORTS]


def test_every_column_of_every_export_is_described_in_both_languages() -> None:
    missing = [
        f"{d.name}.{c.id} ({lang})"
        for d in EXPORTS
        for c in d.columns
        for lang in LANGS
        if not c.about(lang).strip()
    ]
    assert missing == []


def test_every_export_states_its_row_rule_in_both_languages() -> None:
    missing = [
        f"{d.name} part {i} ({lang})"
        for d in EXPORTS
        for i, part in enumerate(d.rule.parts())
        for lang in LANGS
        if not part(lang).strip()
    ]
    assert missing == []


def test_every_export_has_a_title_in_both_languages() -> None:
    assert all(d.display_title(lang) for d in EXPORTS for lang in LANGS)


@pytest.mark.parametrize("lang", LANGS)
def test_the_document_holds_the_catalogues_columns_in_order(lang: str) -> None:
    doc = catalogue_document(lang)
    assert json.loads(json.dumps(doc)) == doc  # JSON as it is
    assert doc["lang"] == lang
    assert [e["name"] for e in doc["exports"]] == NAMES
    for e, d in zip(doc["exports"], EXPORTS, strict=True):
        assert [c["id"] for c in e["columns"]] == [c.id for c in d.columns]
        assert [c["header"] for c in e["columns"]] == [c.header(lang) for c in d.columns]
        assert [c["type"] for c in e["columns"]] == [c.type.value for c in d.columns]
        assert [c["description"] for c in e["columns"]] == [c.about(lang) for c in d.columns]
        assert [p["part"] for p in e["row_rule"]] == [
            "rows",
            "date_anchor",
            "channel_filter",
            "order",
        ]
        assert all(p["label"] and p["text"] for p in e["row_rule"])


def test_the_documents_differ_only_in_language() -> None:
    en, pt = catalogue_document("en"), catalogue_document("pt-BR")
    assert en["exports"][0]["columns"][1]["header"] == "Medium"
    assert pt["exports"][0]["columns"][1]["header"] == "Médio"
    assert pt["exports"][0]["title"] == "Conversas resolvidas"
    handle = next(c for c in pt["exports"][0]["columns"] if c["id"] == "handle_time")
    assert handle["description"].startswith(
        "O período de tempo que um agente estava trabalhando ativamente na conversa (bloqueio)"
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_describe_names_every_column_within_80_columns(name: str, lang: str) -> None:
    text = describe(name, lang)
    d = next(d for d in EXPORTS if d.name == name)
    assert text.startswith(f"{d.display_title(lang)} ({name})\n")
    assert all(len(line) <= WIDTH for line in text.splitlines())
    flat = " ".join(text.split())
    for c in d.columns:
        assert f"{c.header(lang)} [{c.id}," in flat
        assert " ".join(c.about(lang).split()) in flat
    for part in d.rule.parts():
        assert " ".join(part(lang).split()) in flat


def test_an_unknown_language_is_a_usage_error_naming_lang() -> None:
    with pytest.raises(UsageError, match="lang"):
        catalogue_document("fr")
    with pytest.raises(UsageError, match="lang"):
        describe("messages", "pt")


def test_an_unknown_export_is_a_usage_error_listing_the_known_ones() -> None:
    with pytest.raises(UsageError, match="'nope'") as caught:
        describe("nope", "en")
    assert all(name in str(caught.value) for name in NAMES)


def test_both_languages_have_a_generated_doc() -> None:
    assert sorted(DOC_PATHS) == sorted(LANGS)


def test_descriptions_are_read_from_blocks_keyed_by_column_id() -> None:
    cols = (Column("a", "A", "A", ColType.COUNT), Column("b", "B", "B", ColType.TEXT))
    out = described(cols, "a\n  en: One line\n    continued.\n  pt: Uma linha.\n")
    assert out[0].about.en == "One line continued."
    assert out[0].about("pt-BR") == "Uma linha."
    assert out[1].about.en == ""  # the test above is what catches it
    with pytest.raises(ValueError, match="not there"):
        described(cols, "c\n  en: x\n")
    with pytest.raises(ValueError, match="twice"):
        described(cols, "a\n  en: x\n", "a\n  en: y\n")
    with pytest.raises(ValueError, match="not parts"):
        row_rule("rowz\n  en: x\n")
