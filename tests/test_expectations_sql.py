"""The SQL compiled from a GX suite finds exactly the cells Great Expectations finds, on the same
rows: the suite stays the specification when a batch is too large for a pandas copy."""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.collect.cell_rules import (
    cell_rule_problems,
    cell_rule_problems_sql,
    gx_sample,
)
from dagster_project.collect.contract import COLUMN_NAMES
from dagster_project.collect.read import MAX_PROBLEMS_LISTED
from dagster_project.collect.validate import (
    ParsedFile,
    cell_rule_problems_gx,
    parse_records,
    parse_submission,
    rows_table,
)
from expectations.runner import load_suite_definition, run_suite
from expectations.sql import (
    UnsupportedExpectation,
    compile_suite,
    failing_cells_sql,
    gx_disagreements,
    re2_pattern,
    sql_literal,
)
from tests.conftest import CARDIFF, TAX, row, submission

# pandas warns that the period regex has a group; GX only asks whether it matches.
pytestmark = pytest.mark.filterwarnings(
    "ignore:This pattern is interpreted as a regular expression"
)

SUITE = load_suite_definition("submission_rows")
SUITE_COLUMNS = sorted({e["kwargs"]["column"] for e in SUITE["expectations"]})
SUITE_PATTERNS = sorted(
    {e["kwargs"]["regex"] for e in SUITE["expectations"] if "regex" in e["kwargs"]}
)

# Cells where Python's `re`, RE2, pandas and SQL could part ways.
AWKWARD = [
    "",
    " ",
    "\t",
    "12",
    "0",
    "007",
    "12\n",
    "12\n\n",
    "\n12",
    "12\r\n",
    "1\x002",
    "١٢",  # Arabic-Indic digits: Unicode \d, never [0-9]
    "１２",  # full-width digits
    "12.5",
    "12.50",  # pounds and pence: money, not a whole number
    "12.505",
    "12.50\n",
    ".5",
    "12.",
    "£12.50",
    "1,234.50",
    "-3",
    "+3",
    "1e3",
    "1,234",
    "yes",
    "no",
    "YES",
    "Yes",
    " yes",
    "yes\n",
    "2026-02",
    "2026-13",
    "2026-00",
    "2026-02\n",
    "2026-2",
    "٢٠٢٦-02",
    "9" * 5000,
    "'; drop table incoming; --",
    "it's",
    '"quoted"',
    "$1",
    "\\x{30}",
    "W06000015",
]
cells = st.one_of(
    st.sampled_from(AWKWARD),
    st.none(),
    st.text(alphabet="0123456789-yesnoYN \n١٢'.£", max_size=9),
)


def _gx_cells(table: pa.Table) -> set[tuple[int, str, str]]:
    """(row position, column, rule) of every cell real GX finds unexpected, on the frame the
    collector builds ('' is missing)."""
    outcome = run_suite("submission_rows", table.to_pandas().replace("", None))
    return {
        (position, result.column, result.meta["rule"])
        for result in outcome.outcomes
        for position in result.unexpected_rows
    }


def _sql_cells(table: pa.Table, sql: str | None = None) -> set[tuple[int, str, str]]:
    positioned = table.append_column("position", pa.array(range(table.num_rows), pa.int64()))
    con = duckdb.connect()
    con.register("batch", positioned)
    query = sql or failing_cells_sql("submission_rows", "batch", ("position",))
    found = con.execute(f"select position, column_name, rule from ({query})").fetchall()
    return set(found)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({c: cells for c in SUITE_COLUMNS}), min_size=1, max_size=8))
def test_sql_finds_exactly_the_cells_great_expectations_finds(rows):
    table = pa.Table.from_pylist(rows, schema=pa.schema([(c, pa.string()) for c in SUITE_COLUMNS]))
    assert _sql_cells(table) == _gx_cells(table)


def test_every_awkward_cell_in_every_column_agrees_with_great_expectations():
    """Each awkward value once in every suite column: one GX run covers them all."""
    rows = [dict.fromkeys(SUITE_COLUMNS, value) for value in [*AWKWARD, None]]
    table = pa.Table.from_pylist(rows, schema=pa.schema([(c, pa.string()) for c in SUITE_COLUMNS]))
    found = _sql_cells(table)
    assert found == _gx_cells(table)
    # By hand: "12\n" is a whole number to GX (Python's `$` matches before one final newline),
    # so the SQL must not report it; "12\n\n", "١٢" and "１２" are not whole numbers.
    accepted = {
        i for i, v in enumerate(AWKWARD) if v and (i, "letters_posted", "whole_number") not in found
    }
    assert accepted == {AWKWARD.index(v) for v in ("12", "0", "007", "12\n", "9" * 5000)}
    assert (0, "letters_posted", "required") in found  # ''
    assert (1, "letters_posted", "required") not in found  # ' ' is present


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(
            st.fixed_dictionaries({c: st.one_of(st.none(), cells) for c in SUITE_COLUMNS}),
            min_size=1,
            max_size=6,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_sql_and_gx_cell_rules_agree_on_api_payloads(payloads):
    """Rows as the collector has them (cells stripped, 'n/a' and yes/no spellings read); API
    payloads, because a CSV cannot carry every awkward value (a newline is an unclosed quote)."""
    files = [parse_records(f"payload{i}.json", b"", records) for i, records in enumerate(payloads)]
    incoming = rows_table(files)
    assert incoming.num_rows == sum(len(records) for records in payloads)
    assert cell_rule_problems_sql(files, incoming) == cell_rule_problems_gx(files, incoming)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([*SUITE_PATTERNS, "a.b", "^(yes|no)$", "[^0-9]", "x$", "^x\\Z", "^a{2,3}?b"]),
    st.lists(st.text(alphabet="0123456789-abxyesno\n\r ١٢\x00", max_size=12), max_size=20),
)
def test_translated_regex_decides_as_python_re_search(pattern, texts):
    """Regex semantics on their own, many texts at a time: Python's `re.search` (what GX on
    pandas does) against DuckDB's `regexp_matches` with the translated pattern."""
    con = duckdb.connect()
    con.register("texts", pa.table({"i": range(len(texts)), "t": pa.array(texts, pa.string())}))
    matches = f"regexp_matches(t, {sql_literal(re2_pattern(pattern))})"
    decided = [m for (m,) in con.execute(f"select {matches} from texts order by i").fetchall()]
    assert decided == [re.search(pattern, t) is not None for t in texts]


@pytest.mark.parametrize(
    "pattern",
    ["\\d+", "^\\w+$", "\\s", "\\bx", "(?i)yes", "(?i:yes)", "a$b", "(a)\\1", "a(?=b)", "a{2000}"],
)
def test_patterns_without_an_exact_re2_equivalent_are_refused(pattern):
    with pytest.raises(re.error):
        re2_pattern(pattern)


def _suite_with(expectation: dict) -> dict:
    return {"name": "edited", "expectations": [*SUITE["expectations"], expectation]}


@pytest.mark.parametrize(
    ("expectation", "complaint"),
    [
        (
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "period"}},
            "does not know this type",
        ),
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "notes", "mostly": 0.9},
            },
            "unknown kwargs ['mostly']",
        ),
        (
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "notes", "value_set": ["a"], "row_condition": "x"},
            },
            "unknown kwargs ['row_condition']",
        ),
        (
            {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "notes"}},
            "missing kwargs ['regex']",
        ),
        (
            {
                "type": "expect_column_values_to_match_regex",
                "kwargs": {"column": "notes", "regex": "^\\d+$"},
            },
            "regex '^\\\\d+$'",
        ),
        (
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "notes", "value_set": {"$PARAMETER": "flags"}},
            },
            "value_set must be a list of text",
        ),
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "notes"},
                "severity": "warning",
            },
            "unknown keys ['severity']",
        ),
    ],
)
def test_an_expectation_the_compiler_does_not_know_is_refused_by_name(expectation, complaint):
    index = len(SUITE["expectations"])
    with pytest.raises(UnsupportedExpectation) as raised:
        compile_suite(_suite_with(expectation), "incoming", ("file_id",))
    assert f"suite 'edited', expectation {index} ('{expectation['type']}')" in str(raised.value)
    assert complaint in str(raised.value)


def test_every_expectation_of_the_real_suite_is_compiled():
    sql = failing_cells_sql("submission_rows", "incoming", ("row_number",))
    assert sql.count("union all") == len(SUITE["expectations"]) - 1 == 24
    # One row breaking a rule of every kind, worked by hand.
    bad = {c: "" for c in COLUMN_NAMES} | {
        "body_code": CARDIFF,
        "period": "2026-2",
        "service_code": TAX,
        "transactions_total": "12.5",
        "transactions_online": "3",
        "transactions_phone": "-1",
        "available_online": "YES",
        "digital_by_default": "no",
        "letters_posted": "",
        "online_started": "7.0",
        "satisfied_responses": "12",
        "cost_total": "12.505",
    }
    table = pa.Table.from_pylist([bad], schema=pa.schema([(c, pa.string()) for c in COLUMN_NAMES]))
    assert _sql_cells(table) == {
        (0, "online_started", "whole_number"),
        (0, "cost_total", "money"),
        (0, "period", "period_format"),
        (0, "transactions_total", "whole_number"),
        (0, "transactions_phone", "whole_number"),
        (0, "available_online", "yes_no"),
        (0, "letters_posted", "required"),
        (0, "digital_notifications", "required"),
    }


def test_identifiers_are_quoted_and_suite_literals_escaped():
    suite = {
        "name": "quoting",
        "expectations": [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": 'a "col"', "value_set": ["it's", "x"]},
                "meta": {"rule": "r'1"},
            }
        ],
    }
    sql = compile_suite(suite, "batch", ("k",))
    table = pa.table({"k": [0, 1, 2], 'a "col"': ["it's", "its", None]})
    con = duckdb.connect()
    con.register("batch", table)
    assert con.execute(f"select k, value, rule from ({sql})").fetchall() == [(1, "its", "r'1")]


def _batch() -> list[ParsedFile]:
    """Three files: one clean, one with more bad cells of one expectation than are listed and
    two expectations of the same rule, one breaking every kind of cell rule."""
    good = row(CARDIFF, "2026-02", TAX, 10, 5, "yes", "no", 1, 1)
    many = [
        {**good, "period": f"2025-{m:02d}", "letters_posted": "1.5", "digital_notifications": "x"}
        for m in range(1, 13)
    ] * 25  # 300 rows, duplicates do not matter to cell rules
    odd = [
        {**good, "transactions_total": "", "available_online": "Maybe", "period": "2026-13"},
        {**good, "transactions_phone": "١٢", "digital_by_default": "", "service_code": ""},
    ]
    return [
        parse_submission("clean.csv", submission(good)),
        parse_submission("many.csv", submission(*many)),
        parse_submission("odd.csv", submission(*odd)),
    ]


def test_sql_cell_rules_return_exactly_what_the_gx_cell_rules_return():
    files = _batch()
    incoming = rows_table(files)
    problems, not_listed = cell_rule_problems_sql(files, incoming)
    assert (problems, not_listed) == cell_rule_problems_gx(files, incoming)
    # By hand: many.csv has 300 bad letters_posted and 300 bad digital_notifications, both
    # whole_number: 200 of each listed, 100 + 100 counted.
    assert not_listed == {(1, "whole_number"): 200}
    assert MAX_PROBLEMS_LISTED == 200
    assert [(p.row, p.column, p.value, p.rule) for p in problems if p.file == "odd.csv"] == [
        (2, "period", "2026-13", "period_format"),
        (3, "service_code", "", "required"),
        (2, "transactions_total", "", "required"),
        (2, "available_online", "Maybe", "yes_no"),
        (3, "digital_by_default", "", "required"),
        (3, "transactions_phone", "١٢", "whole_number"),
    ]


def test_an_empty_batch_has_no_cell_problems():
    incoming = rows_table([])
    assert cell_rule_problems_sql([], incoming) == ([], {})
    assert cell_rule_problems([], incoming) == ([], {})


def test_production_cell_rules_run_gx_on_a_sample_and_return_what_gx_returns():
    files = _batch()
    incoming = rows_table(files)
    expected = cell_rule_problems_gx(files, incoming)
    assert cell_rule_problems(files, incoming) == expected  # 303 rows: GX checks them all
    assert cell_rule_problems(files, incoming, gx_sample_rows=40) == expected


def test_a_compiled_query_that_strays_from_gx_is_caught():
    """A whole-number regex without its '$' lets '12.5' through: GX and the query disagree."""
    table = pa.table({c: ["12.5" if c == "letters_posted" else "7"] for c in SUITE_COLUMNS})
    assert gx_disagreements("submission_rows", table) == set()
    stray = {
        "name": "stray",
        "expectations": [
            {**e, "kwargs": {**e["kwargs"], "regex": e["kwargs"]["regex"].rstrip("$")}}
            if "regex" in e["kwargs"]
            else e
            for e in SUITE["expectations"]
        ],
    }
    wrong = compile_suite(stray, "rows", ("position",))
    assert gx_disagreements("submission_rows", table, wrong) == {
        (0, "letters_posted", "whole_number")
    }


@given(
    st.integers(min_value=0, max_value=5000),
    st.lists(st.integers(min_value=0, max_value=4999)),
    st.integers(min_value=1, max_value=300),
)
def test_the_gx_sample_is_bounded_sorted_and_takes_flagged_rows_first(rows, flagged, size):
    flagged = [f for f in flagged if f < rows]
    sample = gx_sample(rows, flagged, size)
    assert sample == sorted(set(sample)) and all(0 <= p < rows for p in sample)
    if rows <= size:
        assert sample == list(range(rows))
    else:
        assert len(sample) <= size
        assert set(sorted(set(flagged))[: size // 2]) <= set(sample)
        assert sample[0] == 0  # rows evenly spread start at the first
