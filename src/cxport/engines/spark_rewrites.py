"""The rewrites of a DuckDB tree that make sqlglot's Spark SQL mean the same (issue 19).

Each is a function of the parsed tree (DuckDB's), named in `REWRITES` and
applied in order by `spark_sql.to_spark`; `spark_sql.CONSTRUCTS` says which
construct each one handles.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

READ = "duckdb"
WRITE = "spark"

# The end of an interval still open (DuckDB's `'infinity'`): Spark has no
# infinite instant. Later than any instant a record can carry.
OPEN_END = "9999-12-31 23:59:59.999999"


class TranslationError(ValueError):
    """A DuckDB construct with no Spark counterpart here."""


# Aggregates that skip NULLs: `agg(x) FILTER (WHERE c)` is `agg(CASE WHEN c THEN x END)`.
_NULL_SKIPPING = (exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg)
# Window functions whose result no frame changes; Spark refuses them a frame.
FRAMELESS = (
    exp.Lead,
    exp.Lag,
    exp.RowNumber,
    exp.Rank,
    exp.DenseRank,
    exp.Ntile,
    exp.PercentRank,
    exp.CumeDist,
)


def _filter_in_window(tree: exp.Expression) -> exp.Expression:
    """`agg(x) FILTER (WHERE c) OVER w` → `agg(CASE WHEN c THEN x END) OVER w`
    (Spark before 4.x rejects a FILTER there; the CASE form is the same value)."""
    for window in list(tree.find_all(exp.Window)):
        flt = window.this
        if not isinstance(flt, exp.Filter):
            continue
        agg, cond = flt.this, flt.expression.this
        if not isinstance(agg, _NULL_SKIPPING):
            raise TranslationError(f"FILTER on {agg.sql(READ)} in a window")
        arg = agg.this
        value = exp.Literal.number(1) if isinstance(arg, exp.Star) else arg.copy()
        case = exp.Case(ifs=[exp.If(this=cond.copy(), true=value)])
        new = agg.copy()
        new.set("this", case)
        window.set("this", new)
    return tree


def _named_windows(tree: exp.Expression) -> exp.Expression:
    """`OVER w` with `WINDOW w AS (…)` inlined; the frame dropped for functions whose
    value no frame changes (`lead`, `lag`, `row_number`…): DuckDB ignores it, Spark
    refuses it."""
    for select in list(tree.find_all(exp.Select)):
        named = {w.this.name: w for w in select.args.get("windows") or []}
        for window in select.find_all(exp.Window):
            if window.parent_select is not select and named:
                continue
            ref = window.args.get("alias")
            if ref is not None and ref.name in named and not window.args.get("partition_by"):
                spec = named[ref.name]
                for key in ("partition_by", "order", "spec"):
                    if spec.args.get(key) is not None:
                        window.set(
                            key,
                            spec.args[key].copy()
                            if key != "partition_by"
                            else [p.copy() for p in spec.args[key]],
                        )
                window.set("alias", None)
        select.set("windows", None)
    for window in tree.find_all(exp.Window):
        if isinstance(window.this, FRAMELESS):
            window.set("spec", None)
    return tree


def _output_name(projection: exp.Expression) -> str:
    name = projection.alias_or_name
    if not name:
        raise TranslationError(f"UNION BY NAME: an unnamed column {projection.sql(READ)}")
    return name


def _union_by_name(tree: exp.Expression) -> exp.Expression:
    """`a UNION ALL BY NAME b …` → a positional union: each branch selects every
    name, in order of first appearance, NULL where it has none."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if not (isinstance(node, exp.Union) and node.args.get("by_name")):
            return node
        branches: list[exp.Expression] = []
        kinds: list[tuple[bool, bool]] = []

        def flatten(n: exp.Expression) -> None:
            if isinstance(n, exp.Union) and n.args.get("by_name"):
                flatten(n.this)
                branches.append(n.expression)
                kinds.append((bool(n.args.get("distinct")), True))
            else:
                branches.insert(0, n) if not branches else branches.append(n)

        flatten(node)
        names: list[str] = []
        for branch in branches:
            if not isinstance(branch, exp.Select):
                raise TranslationError("UNION BY NAME of something else than SELECTs")
            for p in branch.expressions:
                if _output_name(p) not in names:
                    names.append(_output_name(p))
        for branch in branches:
            have = {_output_name(p): p for p in branch.expressions}
            branch.set(
                "expressions",
                [have[n] if n in have else exp.alias_(exp.null(), n) for n in names],
            )
        out = branches[0]
        for branch, (distinct, _) in zip(branches[1:], kinds, strict=True):
            out = exp.Union(this=out, expression=branch, distinct=distinct)
        return out

    return tree.transform(rewrite)


def _sources(select: exp.Select) -> set[str]:
    names: set[str] = set()
    for src in [select.args.get("from_"), *(select.args.get("joins") or [])]:
        if src is None:
            continue
        this = src.this
        if isinstance(this, (exp.Table, exp.Subquery)):
            names.add(this.alias_or_name)
    return names


def _row_as_struct(tree: exp.Expression) -> exp.Expression:
    """A bare table alias as a column (`SELECT e.id, e FROM t AS e`, DuckDB's row
    as a struct) → `struct(e.*) AS e`. The alias must name no column of its table."""
    for select in list(tree.find_all(exp.Select)):
        sources = _sources(select)
        for i, p in enumerate(select.expressions):
            if isinstance(p, exp.Column) and not p.table and p.name in sources:
                star = exp.Column(this=exp.Star(), table=exp.to_identifier(p.name))
                select.expressions[i] = exp.alias_(exp.Struct(expressions=[star]), p.name)
                select.expressions[i].parent = select
    return tree


def _open_end(tree: exp.Expression) -> exp.Expression:
    """`CAST('infinity' AS TIMESTAMP)` → the latest instant (`OPEN_END`)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Cast)
            and isinstance(node.this, exp.Literal)
            and node.this.is_string
            and node.this.this.lower() in ("infinity", "+infinity")
        ):
            return exp.cast(exp.Literal.string(OPEN_END), "TIMESTAMP")
        return node

    return tree.transform(rewrite)


def _double_division(tree: exp.Expression) -> exp.Expression:
    """DuckDB's `/` divides as DOUBLE (integers and decimals alike); Spark's keeps
    DECIMAL, with its own rounding of the scale. Both operands as DOUBLE (innermost
    first: `a / 1000.0 / n` has two)."""
    for div in reversed(list(tree.find_all(exp.Div))):
        for key in ("this", "expression"):
            operand = div.args[key]
            if not isinstance(operand, exp.Div) and not (
                isinstance(operand, exp.Cast) and operand.to.is_type("double")
            ):
                div.set(key, exp.cast(operand, "DOUBLE"))
    return tree


def _tuple_keys(tree: exp.Expression) -> exp.Expression:
    """`arg_max(x, (a, b))`: the key row as a struct (ordered field by field)."""
    for agg in tree.find_all(exp.ArgMax, exp.ArgMin):
        key = agg.expression
        if isinstance(key, exp.Tuple):
            agg.set("expression", exp.Struct(expressions=[e.copy() for e in key.expressions]))
    return tree


def _parquet_files(tree: exp.Expression) -> exp.Expression:
    """`read_parquet('glob', hive_partitioning = true, union_by_name = true)` (the
    lake, `lake.read_sql`) → Spark's file source `parquet.`glob``. Union by name is
    the session's `spark.sql.parquet.mergeSchema` (`spark_session.py`); the lake's
    readers select no partition column. An absolute path is a `file:` URI: the lake
    is a folder of this machine (shared with a cluster's nodes at the same path),
    not one of the cluster's default file system (HDFS on YARN)."""
    for node in list(tree.find_all(exp.ReadParquet)):
        path, *options = node.expressions
        known = {"hive_partitioning", "union_by_name"}
        for option in options:
            if not (isinstance(option, exp.EQ) and option.this.name in known):
                raise TranslationError(f"read_parquet option {option.sql(READ)}")
        if not (isinstance(path, exp.Literal) and path.is_string):
            raise TranslationError("read_parquet of something else than one path")
        where = f"file://{path.this}" if path.this.startswith("/") else path.this
        table = exp.Table(
            this=exp.to_identifier(where, quoted=True), db=exp.to_identifier("parquet")
        )
        parent = node.parent
        if isinstance(parent, exp.Table):
            table.set("alias", parent.args.get("alias"))
            parent.replace(table)
        else:
            node.replace(table)
    return tree


def _temp_objects(tree: exp.Expression) -> exp.Expression:
    """`CREATE [OR REPLACE] TEMP TABLE x AS q` → a temporary view (Spark keeps temporary
    objects as views; caching one is the caller's choice, `spark_io.py`)."""
    for create in tree.find_all(exp.Create):
        if create.kind == "TABLE" and isinstance(create.expression, exp.Query):
            props = create.args.get("properties")
            temp = props is not None and any(
                isinstance(p, exp.TemporaryProperty) for p in props.expressions
            )
            if not temp:
                raise TranslationError("CREATE TABLE: only temporary tables translate")
            create.set("kind", "VIEW")
    return tree


# DuckDB's unsigned integers as Spark reads them from Parquet (UINT64: DECIMAL(20, 0)).
UNSIGNED: dict[object, str] = {
    exp.DataType.Type.UBIGINT: "DECIMAL(20, 0)",
    exp.DataType.Type.UINT: "BIGINT",
    exp.DataType.Type.USMALLINT: "INT",
    exp.DataType.Type.UTINYINT: "SMALLINT",
}


def _unsigned_types(tree: exp.Expression) -> exp.Expression:
    """Unsigned integer types (the lake's key columns, `lake.read_sql`) as the signed
    or decimal type Spark reads for them."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.DataType) and node.this in UNSIGNED:
            return exp.DataType.build(UNSIGNED[node.this], dialect=WRITE)
        return node

    return tree.transform(rewrite)


def _materialized_ctes(tree: exp.Expression) -> exp.Expression:
    """`WITH x AS MATERIALIZED (…)` → `WITH x AS (…)`: DuckDB computes such a part
    once, apart (a memory matter: `f_conversation`); Spark has no such keyword and
    plans its own exchanges."""
    for cte in tree.find_all(exp.CTE):
        if cte.args.get("materialized") is not None:
            cte.set("materialized", None)
    return tree


Rewrite = Callable[[exp.Expression], exp.Expression]

# In order: the trees are DuckDB's until the helpers (Spark's) are put in.
REWRITES: tuple[tuple[str, Rewrite], ...] = (
    ("filter_in_window", _filter_in_window),
    ("named_windows", _named_windows),
    ("union_by_name", _union_by_name),
    ("row_as_struct", _row_as_struct),
    ("open_end", _open_end),
    ("double_division", _double_division),
    ("tuple_keys", _tuple_keys),
    ("parquet_files", _parquet_files),
    ("temp_objects", _temp_objects),
    ("unsigned_types", _unsigned_types),
    ("materialized_ctes", _materialized_ctes),
)
