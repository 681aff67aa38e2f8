"""The web page's catalogues: every string of the templates is translated into pt-BR
(with the same placeholders), `messages.pot` is what the templates hold today, and
dates and numbers follow the page's locale."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from cxport.web.i18n import (
    EXTRACT_METHODS,
    EXTRACT_OPTIONS,
    LOCALE_DIR,
    TEMPLATES,
    Formats,
    pick_lang,
    po_path,
    translations,
)


def template_strings() -> set[str]:
    return {m[2] for m in extract_from_dir(TEMPLATES, EXTRACT_METHODS, EXTRACT_OPTIONS)}


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)s", text))


def test_every_template_string_has_a_pt_br_translation() -> None:
    with po_path("pt-BR").open("rb") as f:
        catalog = read_po(f, locale="pt_BR")
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    wanted = template_strings()
    assert wanted, "no strings extracted"
    missing = sorted(wanted - set(translated))
    assert missing == [], (
        f"translate these in {po_path('pt-BR')} (python -m cxport.web.i18n): {missing}"
    )
    for msgid in wanted:
        assert placeholders(msgid) == placeholders(translated[msgid]), msgid
    assert translations("pt-BR").gettext("Generate export") == "Gerar exportação"


def test_the_template_catalogue_is_up_to_date() -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as f:
        pot = {m.id for m in read_po(f) if m.id}
    assert pot == template_strings(), "run python -m cxport.web.i18n"


def test_dates_and_numbers_follow_the_locale() -> None:
    en, pt = Formats("en", "America/Sao_Paulo"), Formats("pt-BR", "America/Sao_Paulo")
    assert en.number(1473) == "1,473" and pt.number(1473) == "1.473"
    assert en.date("2024-06-03") == "Jun 3, 2024" and pt.date("2024-06-03") == "3 de jun. de 2024"
    # 03:30 UTC is the evening before in São Paulo.
    assert en.instant("2024-06-03T03:30:00.000Z").startswith("Jun 3, 2024 12:30")
    assert pt.instant("2024-06-03T03:30:00.000Z") == "3 de jun. de 2024 00:30"
    assert en.size(1536) == "1.5 KB" and pt.size(1536) == "1,5 KB"
    assert pt.took("2024-06-03T00:00:00.000Z", "2024-06-03T00:00:02.500Z").startswith("2,5")


def test_the_language_is_asked_then_remembered_then_the_browsers() -> None:
    assert pick_lang("pt-BR", "en", "en-US") == "pt-BR"
    assert pick_lang(None, "pt-BR", "en-US") == "pt-BR"
    assert pick_lang(None, None, "pt-PT,pt;q=0.9,en;q=0.8") == "pt-BR"
    assert pick_lang("xx", None, "de-DE") == "en"
