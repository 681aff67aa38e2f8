"""The data dictionary: what every export holds, in the reader's language.

One source, the catalogue (`cxport.exports.defs`), read by every front end:
`catalogue_document` for the HTTP API and the web page, `describe` for the
terminal (`cxport export EXPORT --describe`), and `catalogue_doc` for
docs/exports.md and docs/exports.pt-BR.md. Nothing here reads a workspace.
"""

from __future__ import annotations

import textwrap
from typing import Any

from cxport.errors import UsageError
from cxport.exports.catalogue import ColType, ExportDef, Prose, RowRule
from cxport.exports.defs import EXPORTS
from cxport.exports.runner import export_def

LANGS = ("en", "pt-BR")

# The parts of a row rule, in the order they are shown: (key in the API, label).
RULE_PARTS: dict[str, tuple[str, Prose]] = {
    "rows": ("rows", Prose("Rows", "Linhas")),
    "anchor": ("date_anchor", Prose("Date anchor", "Referência de data")),
    "channels": ("channel_filter", Prose("Channel filter", "Filtro de canal")),
    "order": ("order", Prose("Order", "Ordem")),
}

# How each column type is written in a CSV file.
WRITTEN_AS: dict[ColType, Prose] = {
    ColType.ID: Prose("id (never guarded)", "id (nunca protegido)"),
    ColType.TEXT: Prose("text (formula-guarded)", "texto (protegido contra fórmulas)"),
    ColType.CODE: Prose("code", "código"),
    ColType.IDS: Prose("list of ids, joined by |", "lista de ids, unidos por |"),
    ColType.TEXTS: Prose(
        "list of texts, joined by | (guarded)", "lista de textos, unidos por | (protegida)"
    ),
    ColType.TIMESTAMP: Prose("timestamp in the request's zone", "data e hora no fuso do pedido"),
    ColType.DURATION: Prose("whole seconds", "segundos inteiros"),
    ColType.COUNT: Prose("count", "contagem"),
    ColType.DECIMAL2: Prose("two decimals", "duas casas decimais"),
    ColType.BOOL: Prose("true / false", "true / false"),
}

WIDTH = 80  # of `describe`'s lines


def _wrap(text: str, first: str, rest: str) -> str:
    return textwrap.fill(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise UsageError(f"lang: expected {' or '.join(LANGS)}, got {lang!r}")
    return lang


def rule_parts(rule: RowRule, lang: str) -> list[tuple[str, str, str]]:
    """The row rule as (key, label, text), in order."""
    return [
        (key, label(lang), getattr(rule, part)(lang)) for part, (key, label) in RULE_PARTS.items()
    ]


def export_document(d: ExportDef, lang: str) -> dict[str, Any]:
    """One export's definition, JSON-serialisable."""
    return {
        "name": d.name,
        "title": d.display_title(lang),
        "row_rule": [
            {"part": key, "label": label, "text": text}
            for key, label, text in rule_parts(d.rule, lang)
        ],
        "columns": [
            {
                "id": c.id,
                "header": c.header(lang),
                "type": c.type.value,
                "written_as": WRITTEN_AS[c.type](lang),
                "description": c.about(lang),
            }
            for c in d.columns
        ],
    }


def catalogue_document(lang: str) -> dict[str, Any]:
    """Every export with its row rule and its columns' headers and descriptions in `lang`."""
    check_lang(lang)
    return {"lang": lang, "exports": [export_document(d, lang) for d in EXPORTS]}


def describe(name: str, lang: str) -> str:
    """One export's definition as plain text for a terminal, wrapped to 80 columns."""
    check_lang(lang)
    d = export_def(name)
    lines = [f"{d.display_title(lang)} ({d.name})", ""]
    for _key, label, text in rule_parts(d.rule, lang):
        lines.append(_wrap(f"{label}: {text}", "", "  "))
    lines += ["", f"{Prose('Columns', 'Colunas')(lang)} ({len(d.columns)}):", ""]
    for n, c in enumerate(d.columns, 1):
        head = f"{n:2}. {c.header(lang)} [{c.id}, {WRITTEN_AS[c.type](lang)}]"
        lines.append(_wrap(head, "", "      "))
        lines.append(_wrap(c.about(lang), "    ", "    "))
    return "\n".join(lines) + "\n"
