"""Export definitions are data: columns (id, headers, type) and one query.

Each export lives in its own module under `cxport.exports.defs` and is
registered in `EXPORTS` (defs/__init__.py). The query is DuckDB SQL kept to a
portable subset; it reads only the snapshot views (`s_*`, `e_*`, see
`cxport.store.Snapshot`), the derived facts (`f_*`, see
`cxport.exports.facts`) and the request tables:

- `req` (one row): `start_at`, `end_at` (the range `[start, end)` as naive
  UTC TIMESTAMPs), `as_of` (naive UTC), `filtered` (BOOLEAN: a channel
  filter was given), `scheduled` (BOOLEAN);
- `req_channel(channel_id)`: the selected channels (empty when not filtered).

It returns one column per `Column`, named by the column's `id`, in order,
typed as `ColType` says, with `ORDER BY` as the export's row order.

Beside the query, each export carries its data dictionary, in English and
pt-BR: a description per column (`described`) and its row rule (`row_rule`):
which rows, the instant that places a row in the date range, what the channel
filter does, and the row order. `cxport.exports.dictionary` serves them.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, fields, replace
from enum import StrEnum


class ColType(StrEnum):
    """The value a query gives for a column, and so how it is written."""

    ID = "id"  # VARCHAR: an ingested id; never formula-guarded
    TEXT = "text"  # VARCHAR: user or entity text; formula-guarded
    # VARCHAR: a value ingest validated as a code, slug or enum (medium, direction,
    # message type...). It starts with a letter or digit, so the guard could never
    # fire: written as is, sparing the guard's work on the largest files.
    CODE = "code"
    IDS = "ids"  # VARCHAR: list of ids already joined by cx_list(); not guarded
    TEXTS = "texts"  # VARCHAR: list of texts already joined by cx_list(); guarded as one string
    TIMESTAMP = "timestamp"  # TIMESTAMP (naive UTC); written in the export's zone
    DURATION = "duration"  # BIGINT milliseconds; written as whole seconds, truncated
    COUNT = "count"  # BIGINT
    DECIMAL2 = "decimal2"  # DOUBLE; written with two decimals, half away from zero
    BOOL = "bool"  # BOOLEAN; true / false

    @property
    def guarded(self) -> bool:
        return self in (ColType.TEXT, ColType.TEXTS)


@dataclass(frozen=True)
class Prose:
    """One text in both languages of the catalogue."""

    en: str = ""
    pt: str = ""  # pt-BR

    def __call__(self, lang: str) -> str:
        return self.pt if lang == "pt-BR" else self.en


@dataclass(frozen=True)
class Column:
    id: str  # the query's column name (snake_case)
    en: str  # English header
    pt: str  # pt-BR header
    type: ColType
    about: Prose = Prose()  # what the column holds

    def header(self, lang: str) -> str:
        return self.pt if lang == "pt-BR" else self.en


@dataclass(frozen=True)
class RowRule:
    """Which rows an export holds, from exports.md."""

    rows: Prose = Prose()  # what one row is and which rows are kept
    anchor: Prose = Prose()  # the instant that places a row in the date range
    channels: Prose = Prose()  # what the channel filter does
    order: Prose = Prose()  # the row order

    def parts(self) -> tuple[Prose, ...]:
        return (self.rows, self.anchor, self.channels, self.order)


@dataclass(frozen=True)
class ExportDef:
    name: str  # e.g. "resolved-conversations"
    title: str  # e.g. "Resolved Conversations"
    columns: tuple[Column, ...]
    sql: str  # the rows, in no order; it may select more than `columns` (e.g. sort keys)
    # The rows' order: an ORDER BY list over what `sql` selects. Apart from `sql`,
    # so the writer sorts materialized rows (a sort that spills, see writer.py).
    order: str
    facts: tuple[str, ...] = ()  # derived facts the query reads (names in cxport.exports.facts)
    date_range_filters: bool = True  # False: the range is only carried (open-conversations)
    # A query giving the conversation ids the rows can come from (a superset is
    # fine): facts about conversations are then computed for these only (the
    # `c_*` views, see `cxport.exports.facts.define_scope`). None: all.
    scope: str | None = None
    rule: RowRule = RowRule()
    title_pt: str = ""  # pt-BR title, e.g. "Conversas resolvidas"

    def display_title(self, lang: str) -> str:
        return self.title_pt if lang == "pt-BR" and self.title_pt else self.title


def columns(spec: str) -> tuple[Column, ...]:
    """Columns from a table written one per line: `id | English | pt-BR | type`."""
    out = []
    for line in spec.strip().splitlines():
        cid, en, pt, kind = (part.strip() for part in line.split("|"))
        out.append(Column(cid, en, pt, ColType(kind)))
    return tuple(out)


def _entries(*texts: str) -> dict[str, Prose]:
    """Bilingual entries from blocks written as

    key
        en: English text,
          continued on more indented lines
        pt: the pt-BR text
    """
    out: dict[str, dict[str, str]] = {}
    for text in texts:
        key = lang = ""
        for line in textwrap.dedent(text).strip("\n").splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if not line[0].isspace():
                key, lang = stripped, ""
                if key in out:
                    raise ValueError(f"{key}: described twice")
                out[key] = {}
            elif stripped[:3] in ("en:", "pt:") and key:
                lang = stripped[:2]
                out[key][lang] = stripped[3:].strip()
            elif lang:
                out[key][lang] += " " + stripped
            else:
                raise ValueError(f"{key}: text before `en:` or `pt:`: {stripped!r}")
    return {k: Prose(v.get("en", ""), v.get("pt", "")) for k, v in out.items()}


def described(cols: tuple[Column, ...], *texts: str) -> tuple[Column, ...]:
    """The columns with their descriptions, from blocks of entries keyed by column id."""
    about = _entries(*texts)
    unknown = sorted(set(about) - {c.id for c in cols})
    if unknown:
        raise ValueError(f"described columns that are not there: {unknown}")
    return tuple(replace(c, about=about.get(c.id, c.about)) for c in cols)


def row_rule(*texts: str) -> RowRule:
    """A row rule from blocks of entries keyed `rows`, `anchor`, `channels`, `order`."""
    parts = _entries(*texts)
    unknown = sorted(set(parts) - {f.name for f in fields(RowRule)})
    if unknown:
        raise ValueError(f"not parts of a row rule: {unknown}")
    return RowRule(**parts)
