"""The record checks of `ingest.md`, as SQL generated from `cxport.records`.

Each record type gets one query over its lines: `json_keys` (unknown and
duplicate fields) and `json_transform` to a STRUCT of the JSON texts of its
fields (one parse each for all fields; the JSON type of a value is told by
its first character), then one `ok` flag per field, the typed values, the
content hash, and a list of errors `(field, reason)`, empty when the line is
valid. Cross-field rules (`records.CROSS_RULES`) run only on lines whose
fields are all valid. Measured alternatives: lists from `json_type` /
`json_extract_string` over all paths (slower: list element extraction), a
`MAP(VARCHAR, JSON)` transform (much slower), `regexp_extract` with groups for
timestamps (slower than a full match plus fixed positions).
"""

from __future__ import annotations

from cxport.records import (
    CROSS_RULES,
    ID_MAX_LEN,
    RECORD_TYPES,
    Field,
    Kind,
    RecordType,
)

ERR_TYPE = "STRUCT(field VARCHAR, reason VARCHAR)"
NO_ERRORS = f"[]::{ERR_TYPE}[]"
TYPE_NAMES = tuple(rt.name for rt in RECORD_TYPES)

SLUG_RE = "[a-z0-9]+(-[a-z0-9]+)*"
CODE_RE = "[A-Z0-9_]+"
# BCP 47 language tag (RFC 5646 `langtag`, plus private use), case-insensitive.
LANGUAGE_RE = (
    "(?i)(([a-z]{2,3}(-[a-z]{3}){0,3})|[a-z]{4,8})"
    "(-[a-z]{4})?(-([a-z]{2}|[0-9]{3}))?(-([a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    "(-[0-9a-wy-z](-[a-z0-9]{2,8})+)*(-x(-[a-z0-9]{1,8})+)?|x(-[a-z0-9]{1,8})+"
)
DATE_RE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
# RFC 3339 date-time: `T`/`t`, seconds, optional fraction, `Z`/`z` or ±HH:MM.
TIMESTAMP_RE = (
    "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt]([01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}([.][0-9]+)?"
    "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
TIMESTAMP_MSG = (
    "must be an RFC 3339 timestamp with seconds and a Z or ±HH:MM offset"
    " (e.g. 2024-07-01T12:00:00.250-03:00)"
)

KIND_MSG: dict[Kind, str] = {
    Kind.ID: f"must be a non-empty string of at most {ID_MAX_LEN} characters",
    Kind.TEXT: "must be a string",
    Kind.SLUG: "must be a lower-case slug (e.g. web-messenger)",
    Kind.CODE: "must be an upper-case code (A-Z, 0-9, _)",
    Kind.LANGUAGE: "must be a BCP 47 language tag (e.g. pt-BR)",
    Kind.BOOL: "must be true or false",
    Kind.SCORE: "must be an integer 1-5",
    Kind.TRUE: "must be true",
    Kind.WEEKLY: "must be an object of days (mon..sun)",
    Kind.DATES: "must be a list of dates YYYY-MM-DD",
    Kind.IDS: f"must be a list of ids (non-empty strings of at most {ID_MAX_LEN} characters)",
}


def q(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _kind_msg(f: Field) -> str:
    if f.kind is Kind.ENUM:
        return "must be one of " + ", ".join(f.values)
    if f.kind is Kind.TEXT and f.max_len is not None:
        return f"must be a string of at most {f.max_len} characters"
    return KIND_MSG[f.kind]


STRING_KINDS = {Kind.ID, Kind.TEXT, Kind.ENUM, Kind.SLUG, Kind.CODE, Kind.LANGUAGE}


def _valid(f: Field, v: str, s: str) -> str:
    """SQL: `v` (the field's JSON text, not null) is a valid value of the field;
    `s` is its string value when it is a JSON string, else null.

    Never null, and guarded by CASE where a cast could fail (SQL does not
    promise to short-circuit AND).
    """
    match f.kind:
        case Kind.ID:
            cond = f"length({s}) BETWEEN 1 AND {ID_MAX_LEN}"
        case Kind.TEXT if f.max_len is not None:
            cond = f"length({s}) <= {f.max_len}"
        case Kind.TEXT:
            cond = f"{s} IS NOT NULL"
        case Kind.ENUM:
            cond = f"{s} IN ({', '.join(q(x) for x in f.values)})"
        case Kind.SLUG:
            cond = f"regexp_full_match({s}, {q(SLUG_RE)})"
        case Kind.CODE:
            cond = f"regexp_full_match({s}, {q(CODE_RE)})"
        case Kind.LANGUAGE:
            cond = f"regexp_full_match({s}, {q(LANGUAGE_RE)})"
        case Kind.BOOL:
            cond = f"{v} IN ('true', 'false')"
        case Kind.TRUE:
            cond = f"{v} = 'true'"
        case Kind.SCORE:  # the JSON text of an integer: 5.0 is rejected
            cond = f"{v} IN ('1', '2', '3', '4', '5')"
        case Kind.WEEKLY:  # the days are checked in Python (business_hours.py)
            cond = f"starts_with({v}, '{{')"
        case Kind.DATES:
            each = (
                f"CASE WHEN regexp_full_match(x, {q(DATE_RE)}) AND x >= '0001'"
                " THEN try_cast(x AS DATE) IS NOT NULL ELSE false END"
            )
            cond = _list_of_strings(v, each)
        case Kind.IDS:
            cond = _list_of_strings(v, f"length(x) BETWEEN 1 AND {ID_MAX_LEN}")
        case _:
            raise AssertionError(f.kind)
    return f"coalesce({cond}, false)"


def _list_of_strings(v: str, each: str) -> str:
    return (
        f"CASE WHEN starts_with({v}, '[') AND coalesce(list_bool_and(list_transform("
        f"json_type({v}, '$[*]'), lambda y: y = 'VARCHAR')), true) THEN coalesce(list_bool_and("
        f"list_transform(json_extract_string({v}, '$[*]'), lambda x: {each})), true) ELSE false END"
    )


def _typed(f: Field, v: str, s: str) -> str:
    """SQL: the stored value of a valid field (`v` its JSON text, `s` its string)."""
    match f.kind:
        case Kind.BOOL | Kind.TRUE:
            return f"({v} = 'true')"
        case Kind.SCORE:
            return f"CAST({v} AS INTEGER)"
        case Kind.DATES | Kind.IDS:
            return f"json_extract_string({v}, '$[*]')"
        case Kind.WEEKLY:
            return v
    return s


def _got(v: str) -> str:
    """SQL: the offending JSON value, shortened, for a message."""
    g = f"CAST({v} AS VARCHAR)"
    return f"CASE WHEN length({g}) > 60 THEN left({g}, 57) || '...' ELSE {g} END"


def _err(field: str, reason_sql: str) -> str:
    return f"{{'field': {q(field)}, 'reason': {reason_sql}}}"


def _list(items: list[str]) -> str:
    if not items:
        return NO_ERRORS
    return f"list_filter([{', '.join(items)}], lambda e: e IS NOT NULL)"


def stored_columns(rt: RecordType) -> list[str]:
    """The columns a record of `rt` stores (besides workspace, hash and batch)."""
    return ["record_id", "at", *(f.name for f in rt.fields)]


# Timestamps: once the pattern matched (it also bounds the hour and the
# offset's hours and minutes, which DuckDB's cast would take past 23 and 59),
# DuckDB's cast to TIMESTAMPTZ reads them and checks the calendar date and the
# minutes and seconds; a lower-case `t` or `z` is cast upper-cased. The
# instant is truncated to the millisecond (floor, so before 1970 too). The
# cast is made once, for the check and the value.
_AT_CAST = (
    f"CASE WHEN regexp_full_match(_a, {q(TIMESTAMP_RE)}) AND NOT starts_with(_a, '0000') THEN"
    " coalesce(try_cast(_a AS TIMESTAMPTZ), try_cast(upper(_a) AS TIMESTAMPTZ)) END"
)
_AT_VALUE = "date_trunc('millisecond', make_timestamp(epoch_us(_at)))"


def validate_query(rt: RecordType, source: str) -> str:
    """A query over `source` (lineno, line), all lines of type `rt`: lineno, the
    `stored_columns(rt)` (null where invalid), `content_hash` and `_errs` (a
    list of (field, reason), empty when the record is valid).

    One parse for the keys (`json_keys`), one for the values: a STRUCT of
    JSON texts (`json_transform`; null and absent both give SQL NULL).
    """
    id_field = Field("id", Kind.ID, True)
    at_field = Field("at", Kind.TEXT, True)
    fields = [id_field, at_field, *rt.fields]
    shape = "{" + ", ".join(f'"{f.name}": "JSON"' for f in fields) + "}"
    allowed = ", ".join(q(n) for n in ("type", *(f.name for f in fields)))
    extract = (
        f"SELECT lineno, json_keys(line) AS _k, json_transform(line, {q(shape)}) AS _j"
        f" FROM {source}"
    )

    strings = ["lineno", "_k", "_j"]
    times = ["*"]
    oks = ["lineno", "_k", "_j"]
    typed = ["lineno", "_k", "_j"]
    errs = []
    for i, f in enumerate(fields, start=1):
        v, s = f"_j.{ident(f.name)}", f"_s{i}"
        if f.kind in STRING_KINDS:
            strings.append(
                f"CASE WHEN starts_with({v}, '\"') THEN json_extract_string({v}, '$') END AS {s}"
            )
        else:
            strings.append(f"NULL::VARCHAR AS {s}")
        if f is at_field:
            times.append(f"{_AT_CAST.replace('_a', s)} AS _t{i}")
            valid = f"_t{i} IS NOT NULL"
            msg = TIMESTAMP_MSG
            value = _AT_VALUE.replace("_at", f"_t{i}")
            name = "at"
        else:
            valid = _valid(f, v, s)
            msg = _kind_msg(f)
            value = _typed(f, v, s)
            name = "record_id" if f is id_field else f.name
        if f.nullable_required:
            ok = f"list_contains(_k, {q(f.name)}) AND CASE WHEN {v} IS NULL THEN true ELSE {valid} END"
            missing = "required (null is allowed)"
        elif f.required:
            ok = f"CASE WHEN {v} IS NULL THEN false ELSE {valid} END"
            missing = "required"
        else:
            ok = f"CASE WHEN {v} IS NULL THEN true ELSE {valid} END"
            missing = "required"
        oks.append(f"{s}, {ok} AS _ok{i}")
        if f is at_field:
            oks.append(f"_t{i}")
        # Strings need no guard: a line with an error is never stored.
        guarded = value if value == s else f"CASE WHEN _ok{i} THEN {value} END"
        typed.append(f"_ok{i}, {guarded} AS {ident(name)}")
        reason = (
            f"CASE WHEN {v} IS NULL THEN {q(missing)} ELSE {q(msg + ', got ')} || ({_got(v)}) END"
        )
        errs.append(f"CASE WHEN NOT _ok{i} THEN {_err(f.name, reason)} END")
    # Fast path: every key is known and none repeats nor is null when the keys
    # are `type` plus the non-null fields; else the precise (slower) check.
    found = " + ".join(f"(_j.{ident(f.name)} IS NOT NULL)::INT" for f in fields)
    typed.append(
        f"CASE WHEN len(_k) = 1 + {found} THEN true ELSE"
        f" list_has_all([{allowed}], _k) AND list_unique(_k) = len(_k) END AS _keys_ok"
    )
    unknown_errs = (
        f"list_transform(list_distinct(list_filter(_k, lambda k: NOT list_contains([{allowed}], k))),"
        " lambda k: {'field': k, 'reason': " + q(f"unknown field for type {rt.name}") + "})"
    )
    dup_errs = (
        "list_transform(list_filter(list_distinct(_k),"
        " lambda k: len(list_filter(_k, lambda j: j = k)) > 1),"
        " lambda k: {'field': k, 'reason': 'duplicate field'})"
    )
    rules = [
        (cond, field, reason) for types, cond, field, reason in CROSS_RULES if rt.name in types
    ]
    cross_any = " OR ".join(f"coalesce(({cond}), false)" for cond, _, _ in rules) or "false"
    cross = [
        f"CASE WHEN ({cond}) THEN {_err(field, q(reason))} END" for cond, field, reason in rules
    ]
    all_ok = " AND ".join([*(f"_ok{i}" for i in range(1, len(fields) + 1)), "_keys_ok"])
    errs_sql = (
        f"CASE WHEN {all_ok} AND NOT ({cross_any}) THEN {NO_ERRORS}"
        f" WHEN {all_ok} THEN {_list(cross)}"
        f" ELSE list_concat({_list(errs)}, {unknown_errs}, {dup_errs}) END AS _errs"
    )
    out = [
        "lineno",
        *(ident(n) for n in stored_columns(rt)),
        f"{hash_sql(rt)} AS content_hash",
        errs_sql,
    ]
    return (
        f"WITH extract AS ({extract}), strings AS (SELECT {', '.join(strings)} FROM extract),"
        f" times AS (SELECT {', '.join(times)} FROM strings),"
        f" oks AS (SELECT {', '.join(oks)} FROM times),"
        f" typed AS (SELECT {', '.join(typed)} FROM oks)"
        f" SELECT {', '.join(out)} FROM typed"
    )


def hash_sql(rt: RecordType) -> str:
    """SQL: the content hash of a row of `rt`: DuckDB's 64-bit hash of
    the type, `at` and each typed field value, in order. Equal JSON objects
    after parsing give equal hashes: key order, spacing, escapes and offset
    spelling are gone. A stored hash that differs is checked column by column
    before it is called a conflict (`commit.py`), so a DuckDB whose hash
    function changed sees re-sends as re-sends.
    """
    cols = ", ".join(ident(c) for c in ("at", *(f.name for f in rt.fields)))
    return f"hash({q(rt.name)}, {cols})"
