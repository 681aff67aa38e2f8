"""docs/exports.md and docs/exports.pt-BR.md, written from the export definitions.

`python -m cxport.exports.catalogue_doc [--lang pt-BR] > FILE` regenerates one
(`make docs` both); a test fails when a file and the definitions disagree.
"""

from __future__ import annotations

import argparse

from cxport.exports.catalogue import ExportDef, Prose
from cxport.exports.dictionary import LANGS, WRITTEN_AS, check_lang, rule_parts

# The file each language's catalogue is written to, below the repository root.
DOC_PATHS = {"en": "docs/exports.md", "pt-BR": "docs/exports.pt-BR.md"}

_HEADING = Prose("The export catalogue", "O catálogo de exportações")
_INTRO = Prose(
    "Generated from `src/cxport/exports/defs/` by"
    " `python -m cxport.exports.catalogue_doc --lang en`; do not edit by hand"
    " (in Portuguese: `exports.pt-BR.md`).\n"
    "Each export: the rows it holds, what places a row in the date range, what the"
    " channel filter does and the row order; then each column with its header in both"
    " languages, its id, how it is written and what it holds.\n"
    "The rules behind them are in `../shared/spec/exports.md` and `metrics.md`.",
    "Gerado a partir de `src/cxport/exports/defs/` por"
    " `python -m cxport.exports.catalogue_doc --lang pt-BR`; não edite à mão"
    " (em inglês: `exports.md`).\n"
    "Cada exportação: as linhas que contém, o que coloca uma linha no intervalo de datas,"
    " o que faz o filtro de canal e a ordem das linhas; depois cada coluna com o seu"
    " cabeçalho nas duas línguas, o seu id, como é escrita e o que contém.\n"
    "As regras por trás delas estão em `../shared/spec/exports.md` e `metrics.md`.",
)
_FACTS = Prose("Derived facts", "Fatos derivados")
_TABLE = Prose(
    "| # | English | pt-BR | id | written as | what it holds |",
    "| # | pt-BR | English | id | escrita como | o que contém |",
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(exports: tuple[ExportDef, ...], lang: str = "en") -> str:
    check_lang(lang)
    lines = [f"# {_HEADING(lang)}", "", _INTRO(lang), ""]
    for n, d in enumerate(exports, 1):
        lines += [f"## {n}. `{d.name}` — {d.display_title(lang)}", ""]
        lines += [f"- **{label}:** {text}" for _key, label, text in rule_parts(d.rule, lang)]
        lines.append("")
        if d.facts:
            lines += [f"{_FACTS(lang)}: " + ", ".join(f"`{f}`" for f in d.facts) + ".", ""]
        lines += [_TABLE(lang), "| ---: | --- | --- | --- | --- | --- |"]
        for i, c in enumerate(d.columns, 1):
            first, second = (c.pt, c.en) if lang == "pt-BR" else (c.en, c.pt)
            cells = (first, second, f"`{c.id}`", WRITTEN_AS[c.type](lang), c.about(lang))
            lines.append(f"| {i} | " + " | ".join(_cell(x) for x in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from cxport.exports.defs import EXPORTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=LANGS, default="en")
    args = parser.parse_args(argv)
    print(render(EXPORTS, args.lang), end="")


if __name__ == "__main__":
    main()
