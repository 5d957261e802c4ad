"""The cell rules of a batch (the GX suite `submission_rows`) as one DuckDB query over the Arrow
table of the batch: the same problems as running the suite through Great Expectations on a pandas
copy, without the copy, so 10 M rows fit in memory and time.

Drop-in for `validate.cell_rule_problems_gx`: the first MAX_PROBLEMS_LISTED problems of each
expectation and file, in the order GX reports them (by column, then suite order, then row
position), the rest counted by (file, rule). `tests/test_expectations_sql.py` proves both give
the same answer. `cell_rule_problems` also has real GX run the suite over a sample of every
batch (all of a small one) and refuses to go on if it disagrees with the SQL.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from dagster_project.collect.read import MAX_PROBLEMS_LISTED
from dagster_project.collect.rules import Problem
from expectations.runner import load_suite_definition
from expectations.sql import failing_cells_sql, gx_disagreements

if TYPE_CHECKING:
    from dagster_project.collect.validate import NotListed, ParsedFile

SUITE = "submission_rows"
POSITION = "_position"  # a row's place in the batch: GX reports rows by it, so ties break alike
# Real GX validates this many rows of every batch (all of a small one) and must agree with the SQL.
GX_SAMPLE_ROWS = 10_000


class SuiteDisagreement(RuntimeError):
    """Great Expectations and the SQL compiled from its suite judged the same cells differently:
    the compiler is wrong, and no batch is validated by it until it is fixed."""


def cell_rule_problems(
    files: list[ParsedFile], incoming: pa.Table, gx_sample_rows: int = GX_SAMPLE_ROWS
) -> tuple[list[Problem], NotListed]:
    """`cell_rule_problems_sql`, after Great Expectations itself has run the suite over a sample
    of the batch and agreed with the SQL on every cell of it."""
    problems, not_listed, flagged = _sql_problems(files, incoming)
    sample = gx_sample(incoming.num_rows, flagged, gx_sample_rows)
    if sample and (differ := gx_disagreements(SUITE, incoming.take(sample))):
        shown = sorted((sample[p], column, rule) for p, column, rule in differ)[:5]
        raise SuiteDisagreement(
            f"GX and the SQL of suite {SUITE!r} disagree on {len(differ)} cells, "
            f"e.g. (batch row position, column, rule) {shown}"
        )
    return problems, not_listed


def gx_sample(rows: int, flagged: list[int], size: int) -> list[int]:
    """Positions GX checks: every row of a batch of at most `size`; else the first flagged rows
    (up to half) and rows evenly spread over the batch, so both verdicts are exercised."""
    if rows <= size or size <= 0:
        return list(range(rows)) if size > 0 else []
    chosen = set(sorted(set(flagged))[: size // 2])
    step = rows / (size - len(chosen))
    chosen.update(int(i * step) for i in range(size - len(chosen)))
    return sorted(chosen)


def cell_rule_problems_sql(
    files: list[ParsedFile], incoming: pa.Table
) -> tuple[list[Problem], NotListed]:
    """Run the cell rules of the suite once over every row of `incoming` in DuckDB; build the
    first MAX_PROBLEMS_LISTED problems of each expectation and file, count the rest by rule."""
    problems, not_listed, _ = _sql_problems(files, incoming)
    return problems, not_listed


def _sql_problems(
    files: list[ParsedFile], incoming: pa.Table
) -> tuple[list[Problem], NotListed, list[int]]:
    """The problems, the counts, and the batch positions of the problems listed."""
    from dagster_project.collect.validate import SHOWN_CHARS  # validate imports this module

    not_listed: NotListed = Counter()
    if incoming.num_rows == 0:
        return [], not_listed, []
    positioned = incoming.append_column(
        POSITION, pa.array(range(incoming.num_rows), type=pa.int64())
    )
    keys = (POSITION, "file_id", "row_number", "service_code")
    failing = failing_cells_sql(SUITE, "incoming", keys)
    con = duckdb.connect()
    try:
        con.register("incoming", positioned)
        found = con.execute(
            f"""
            select expectation_index, file_id, row_number, column_name, value, rule,
                   service_code, count(*) over (partition by file_id, expectation_index) as found,
                   {POSITION}
            from ({failing})
            qualify row_number() over (
                partition by file_id, expectation_index order by {POSITION}
            ) <= $listed
            order by expectation_index, {POSITION}
            """,
            {"listed": MAX_PROBLEMS_LISTED},
        ).fetchall()
    finally:
        con.close()
    # GX reports its results grouped by column, in the order the suite first names each column.
    columns = [e["kwargs"]["column"] for e in load_suite_definition(SUITE)["expectations"]]
    found.sort(key=lambda cell: columns.index(cell[3]))  # stable: suite order, then position
    problems = []
    listed: Counter[tuple[int, int]] = Counter()
    of_expectation: dict[tuple[int, int], tuple[str, int]] = {}
    for index, file_id, row_number, column, value, rule, service, count, _ in found:
        problems.append(
            Problem(
                files[file_id].name,
                row_number,
                column,
                value or "",
                rule,
                service_code=(service or "")[:SHOWN_CHARS],
            )
        )
        listed[file_id, index] += 1
        of_expectation[file_id, index] = (rule, count)
    for (file_id, index), (rule, count) in of_expectation.items():
        if count > listed[file_id, index]:
            not_listed[file_id, rule] += count - listed[file_id, index]
    return problems, not_listed, [cell[-1] for cell in found]
