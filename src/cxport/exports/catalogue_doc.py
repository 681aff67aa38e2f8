"""docs/exports.md, written from the export definitions (so it cannot drift).

`python -m cxport.exports.catalogue_doc > docs/exports.md` regenerates it; a
test fails when the file and the definitions disagree.
"""

from __future__ import annotations

from cxport.exports.catalogue import ColType, ExportDef

WRITTEN_AS: dict[ColType, str] = {
    ColType.ID: "id (never guarded)",
    ColType.TEXT: "text (formula-guarded)",
    ColType.CODE: "code",
    ColType.IDS: "list of ids, `|`-joined",
    ColType.TEXTS: "list of texts, `|`-joined (guarded)",
    ColType.TIMESTAMP: "timestamp in the request's zone",
    ColType.DURATION: "whole seconds",
    ColType.COUNT: "count",
    ColType.DECIMAL2: "two decimals",
    ColType.BOOL: "true / false",
}


def render(exports: tuple[ExportDef, ...]) -> str:
    lines = [
        "# The export catalogue",
        "",
        "Generated from `src/cxport/exports/defs/` by"
        " `python -m cxport.exports.catalogue_doc`; do not edit by hand.",
        "The rules behind each column are in `../shared/spec/exports.md` and `metrics.md`.",
        "",
    ]
    for n, d in enumerate(exports, 1):
        lines += [f"## {n}. `{d.name}` — {d.title}", ""]
        if d.facts:
            lines += ["Derived facts: " + ", ".join(f"`{f}`" for f in d.facts) + ".", ""]
        lines += ["| # | English | pt-BR | written as |", "| ---: | --- | --- | --- |"]
        for i, c in enumerate(d.columns, 1):
            lines.append(f"| {i} | {c.en} | {c.pt} | {WRITTEN_AS[c.type]} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    from cxport.exports.defs import EXPORTS

    print(render(EXPORTS), end="")
