"""Compile a Great Expectations suite of cell rules into one DuckDB query, so the suite stays the
specification while a batch of millions of rows is checked without a pandas copy.

The query finds exactly the cells GX finds unexpected when `run_suite` validates the same rows as
a pandas frame in which '' is missing (`.replace("", None)`, as the collector does):

- `expect_column_values_to_not_be_null`: NULL and '' are unexpected; the value shown is ''.
- `expect_column_values_to_match_regex`, `expect_column_values_to_be_in_set`: NULL and '' are
  skipped, as GX skips nulls; any other text (' ', '0 ', 'YES') is checked as it stands.

GX on pandas matches regexes with Python's `re.search`; DuckDB uses RE2. `re2_pattern` rewrites a
pattern into RE2 with Python's meaning (`$` also matches before a final newline, `.` never
matches a newline, literals spelt as code points) and refuses what it cannot translate exactly
(`\\d`, `\\w`, `\\s`, `\\b`, flags, look-arounds, back-references, `$` before more pattern).
Anything else the compiler does not know, an expectation type, a kwarg such as `mostly` or
`row_condition`, raises `UnsupportedExpectation`: editing the suite never silently drops a rule.

Identifiers come from the suite and the caller's code and are quoted; values from the suite go in
as escaped SQL literals. Cell values are only ever data.
"""

from __future__ import annotations

import re
from re import _constants as sre  # the parser's opcodes, stable across 3.11+
from re import _parser as sre_parse

import duckdb
import pyarrow as pa

from expectations.runner import load_suite_definition, run_suite

NOT_NULL = "expect_column_values_to_not_be_null"
MATCH_REGEX = "expect_column_values_to_match_regex"
IN_SET = "expect_column_values_to_be_in_set"
# The kwargs each compiled type reads; any other kwarg (mostly, row_condition, ...) changes which
# cells GX reports, so it is refused rather than ignored.
KNOWN_KWARGS = {
    NOT_NULL: {"column"},
    MATCH_REGEX: {"column", "regex"},
    IN_SET: {"column", "value_set"},
}
# Keys of an expectation that do not change what it finds.
DESCRIPTIVE_KEYS = {"type", "kwargs", "meta", "notes", "description", "id"}
# RE2 refuses counted repetition above this.
RE2_MAX_REPEAT = 1000


class UnsupportedExpectation(ValueError):
    """A suite holds something the SQL compiler cannot reproduce exactly."""


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: str) -> str:
    """A standard SQL string literal: in DuckDB only the quote needs doubling (no backslash
    escapes in '...')."""
    if "\x00" in value:
        raise UnsupportedExpectation("a NUL character cannot be written as a DuckDB literal")
    return "'" + value.replace("'", "''") + "'"


def _code_point(char: int) -> str:
    return f"\\x{{{char:x}}}"


def _class_item(op, av) -> str:
    if op is sre.LITERAL:
        return _code_point(av)
    if op is sre.RANGE:
        return f"{_code_point(av[0])}-{_code_point(av[1])}"
    raise re.error(f"{op} in a character class has no exact RE2 equivalent")


def _emit(nodes, tail: bool) -> str:
    """RE2 text for parsed nodes; `tail` says nothing can follow them in the whole pattern."""
    out = []
    for index, (op, av) in enumerate(nodes):
        last = tail and index == len(nodes) - 1
        if op is sre.LITERAL:
            out.append(_code_point(av))
        elif op is sre.NOT_LITERAL:
            out.append(f"[^{_code_point(av)}]")
        elif op is sre.ANY:
            out.append("[^\\n]")  # Python's '.' never matches a newline, whatever RE2's options
        elif op is sre.IN:
            negate = bool(av) and av[0][0] is sre.NEGATE
            items = "".join(_class_item(o, a) for o, a in (av[1:] if negate else av))
            out.append(f"[{'^' if negate else ''}{items}]")
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, sub = av
            if low > RE2_MAX_REPEAT or (high is not sre.MAXREPEAT and high > RE2_MAX_REPEAT):
                raise re.error(f"RE2 cannot repeat more than {RE2_MAX_REPEAT} times")
            upper = "" if high is sre.MAXREPEAT else str(high)
            lazy = "?" if op is sre.MIN_REPEAT else ""
            out.append(f"(?:{_emit(list(sub), False)}){{{low},{upper}}}{lazy}")
        elif op is sre.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise re.error("inline flags have no exact RE2 equivalent here")
            out.append(f"(?:{_emit(list(sub), last)})")
        elif op is sre.BRANCH:
            out.append("(?:" + "|".join(_emit(list(b), last) for b in av[1]) + ")")
        elif op is sre.AT and av in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING):
            out.append("\\A")  # without MULTILINE, Python's '^' is the start of the string
        elif op is sre.AT and av is sre.AT_END_STRING:
            out.append("\\z")
        elif op is sre.AT and av is sre.AT_END:
            # Python's '$' matches at the end or before a final newline. RE2 has no look-ahead,
            # so the newline is consumed: exact only when nothing can follow.
            if not last:
                raise re.error("'$' followed by more pattern has no exact RE2 equivalent")
            out.append("\\n?\\z")
        else:
            raise re.error(f"{op} {av!r} has no exact RE2 equivalent")
    return "".join(out)


def re2_pattern(pattern: str) -> str:
    """The RE2 pattern that `regexp_matches` uses to decide exactly what Python's
    `re.search(pattern, text)` decides, for every text; raises `re.error` when there is none."""
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & ~(re.UNICODE):
        raise re.error("inline flags have no exact RE2 equivalent here")
    return _emit(list(parsed), True)


def _missing(column: str) -> str:
    return f"({column} is null or {column} = '')"


def _condition(suite: str, index: int, expectation: dict) -> tuple[str, str]:
    """(where clause selecting the unexpected cells, the value shown) of one expectation."""
    where = f"suite {suite!r}, expectation {index} ({expectation.get('type')!r})"
    kind = expectation.get("type")
    if kind not in KNOWN_KWARGS:
        raise UnsupportedExpectation(f"{where}: the SQL compiler does not know this type")
    if unknown := set(expectation) - DESCRIPTIVE_KEYS:
        raise UnsupportedExpectation(f"{where}: unknown keys {sorted(unknown)}")
    kwargs = expectation.get("kwargs", {})
    if unknown := set(kwargs) - KNOWN_KWARGS[kind]:
        raise UnsupportedExpectation(f"{where}: unknown kwargs {sorted(unknown)}")
    if missing := KNOWN_KWARGS[kind] - set(kwargs):
        raise UnsupportedExpectation(f"{where}: missing kwargs {sorted(missing)}")
    if not isinstance(kwargs["column"], str):
        raise UnsupportedExpectation(f"{where}: column must be a name")
    column = quote_identifier(kwargs["column"])
    if kind == NOT_NULL:
        return _missing(column), "''"
    if kind == MATCH_REGEX:
        if not isinstance(kwargs["regex"], str):
            raise UnsupportedExpectation(f"{where}: regex must be text, not a parameter")
        try:
            pattern = re2_pattern(kwargs["regex"])
        except re.error as error:
            raise UnsupportedExpectation(f"{where}: regex {kwargs['regex']!r}: {error}") from None
        return (
            f"not {_missing(column)} and not regexp_matches({column}, {sql_literal(pattern)})",
            column,
        )
    value_set = kwargs["value_set"]
    if not isinstance(value_set, list) or not all(isinstance(v, str) for v in value_set):
        raise UnsupportedExpectation(f"{where}: value_set must be a list of text")
    if not value_set:  # GX's isin([]): every present cell is unexpected
        return f"not {_missing(column)}", column
    members = ", ".join(sql_literal(v) for v in value_set)
    return f"not {_missing(column)} and {column} not in ({members})", column


def failing_cells_sql(suite_name: str, relation: str, keys: tuple[str, ...]) -> str:
    """One DuckDB query over `relation` (text cells) returning (*keys, expectation_index,
    expectation, column_name, value, rule) for every cell the suite `expectations/<name>.json`
    finds unexpected; `expectation_index` is its position in the suite, `rule` its `meta.rule`."""
    return compile_suite(load_suite_definition(suite_name), relation, keys)


def compile_suite(definition: dict, relation: str, keys: tuple[str, ...]) -> str:
    """`failing_cells_sql` for a suite definition already loaded (the JSON `run_suite` reads).

    One scan of `relation` keeps the rows breaking any expectation, then each expectation picks
    its cells from those few: scanning an Arrow table once per expectation costs 30-50 % more."""
    suite = definition.get("name", "?")
    source = ".".join(quote_identifier(part) for part in relation.split("."))
    selected = "".join(f"{quote_identifier(k)}, " for k in keys)
    wheres, branches, columns = [], [], list(keys)
    for index, expectation in enumerate(definition.get("expectations", [])):
        where, value = _condition(suite, index, expectation)
        rule = (expectation.get("meta") or {}).get("rule")
        column = expectation["kwargs"]["column"]
        columns += [column] if column not in columns else []
        wheres.append(f"({where})")
        branches.append(
            f"select {selected}{index} as expectation_index, "
            f"{sql_literal(expectation['type'])} as expectation, "
            f"{sql_literal(column)} as column_name, "
            f"{value}::varchar as value, "
            f"{sql_literal(rule) if isinstance(rule, str) else 'null'}::varchar as rule "
            f"from suite_suspect_rows where {where}"
        )
    if not branches:
        raise UnsupportedExpectation(f"suite {suite!r} has no expectations")
    return (
        f"with suite_suspect_rows as materialized (\n"
        f"select {', '.join(quote_identifier(c) for c in columns)} from {source}\n"
        f"where {' or '.join(wheres)}\n)\n" + "\nunion all\n".join(branches)
    )


def gx_disagreements(
    suite_name: str, table: pa.Table, sql: str | None = None
) -> set[tuple[int, str, str]]:
    """Run the suite through real Great Expectations and its compiled SQL over the same rows ('' is
    missing, as the collector has it); the (row position, column, rule) cells only one of them
    finds. Empty when they agree. `sql` (over relation "rows", key "position") replaces the
    compiled query, to show a wrong one is caught."""
    outcome = run_suite(suite_name, table.to_pandas().replace("", None))
    by_gx = {
        (position, result.column, (result.meta or {}).get("rule"))
        for result in outcome.outcomes
        for position in result.unexpected_rows
    }
    con = duckdb.connect()
    try:
        con.register("rows", table.append_column("position", pa.array(range(table.num_rows))))
        query = sql or failing_cells_sql(suite_name, "rows", ("position",))
        by_sql = set(con.execute(f"select position, column_name, rule from ({query})").fetchall())
    finally:
        con.close()
    return by_gx ^ by_sql
