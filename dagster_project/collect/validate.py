"""Check submissions against the data contract: the same rules for the pipeline, the API collector
and the `digital-progress validate` command.

Reading and header checks are per file; the row rules run once over every row of a batch: the
cell rules as the Great Expectations suite `expectations/submission_rows.json` (compiled to one
DuckDB query, with GX itself checking a sample of every batch: cell_rules.py), the rules across
rows and reference data as one set-based DuckDB query. Cell values reach DuckDB and pandas only
as data, never as SQL text.

Cost stays bounded however many rows are bad: each file lists at most MAX_PROBLEMS_LISTED
problems, errors first; the rest are only counted, by rule, where they are found (while
parsing, over the GX results' positions, inside the DuckDB query), never built one by one, and
the report says how many more there are (`more_errors`, `more_warnings`).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy
import pandas as pd
import pyarrow as pa

from dagster_project.collect.cell_rules import GX_SAMPLE_ROWS, cell_rule_problems
from dagster_project.collect.contract import (
    CHANNEL_COLUMNS,
    COLUMN_NAMES,
    COUNT_COLUMNS,
    FLAG_COLUMNS,
    MONEY_COLUMNS,
    MONEY_PATTERN,
    MONEY_WRITTEN,
    NOT_GIVEN,
    REQUIRED_COLUMNS,
    WHOLE_NUMBER_PATTERN,
)
from dagster_project.collect.read import (
    MAX_CELL_CHARS,
    MAX_PROBLEMS_LISTED,
    MAX_ROWS,
    Unreadable,
    cell_text,
    read_table,
)
from dagster_project.collect.rules import ERROR, RULES, WARNING, Problem
from dagster_project.reference import Reference

SPREADSHEET_SUFFIXES = (".csv", ".xlsx", ".txt")
THOUSANDS = re.compile(r"[0-9]{1,3}(,[0-9]{3})+")
MONEY = re.compile(MONEY_WRITTEN)
# A note in brackets on a money column's header that still means pounds; any other note ("£000s",
# "pence", "£k") would change what every figure in the column means, so it is refused.
POUNDS_NOTE = re.compile(r"(in )?(£|£s|pounds?|gbp|punnoedd|punt)", re.IGNORECASE)
FLAG_WORDS = {"yes": "yes", "y": "yes", "true": "yes", "no": "no", "n": "no", "false": "no"}
# A service code is shown in reports as written, cut to this length (a cell may hold 2,000).
SHOWN_CHARS = 60
# An unknown service code: its nearest valid codes are listed (up to NEAREST_SHOWN), and every
# code the body may use when there are at most FEW_SERVICES of them.
NEAREST_SHOWN = 3
FEW_SERVICES = 8
PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
TOTALS = re.compile(r"(grand\s+)?totals?:?|cyfanswm(\s+cyffredinol)?:?", re.I)


# The rules that stand for problems found but not listed, by severity.
NOT_LISTED_RULES = {ERROR: "more_errors", WARNING: "more_warnings"}


@dataclass
class ParsedFile:
    """A submission read into text cells. `sender` is the body it came from (its landing folder
    or API endpoint), None when unknown; `problems` holds what was found while reading, at most
    MAX_PROBLEMS_LISTED of each rule, and `problems_not_listed` counts the rest by rule."""

    name: str
    content_hash: str
    sender: str | None = None
    rows: list[dict[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problems_not_listed: Counter[str] = field(default_factory=Counter)
    _listed: Counter[str] = field(default_factory=Counter, repr=False, compare=False)
    # The rows as read by the fast path (collect/fast.py, ROWS_SCHEMA), instead of `rows`.
    table: pa.Table | None = field(default=None, repr=False, compare=False)

    @property
    def row_count(self) -> int:
        return len(self.rows) if self.table is None else self.table.num_rows

    def periods(self) -> list[str]:
        """The well-formed months the file's rows are about, sorted."""
        if self.table is None:
            written = {row["period"] for row in self.rows}
        else:
            written = set(self.table.column("period").unique().to_pylist())
        return sorted(p for p in written if PERIOD.fullmatch(p))

    def with_row_dicts(self) -> None:
        """Give a file read by the fast path its rows as dicts too, as the reports read them."""
        if self.table is not None and not self.rows:
            self.rows = [
                {**{c: row[c] for c in COLUMN_NAMES}, "_row": str(row["row_number"])}
                for row in self.table.to_pylist()
            ]

    @property
    def unreadable(self) -> bool:
        return any(RULES[p.rule].unreadable for p in self.problems)

    def add_problem(
        self,
        row: int,
        column: str,
        value: str,
        rule: str,
        detail: str = "",
        service_code: str = "",
    ) -> None:
        """Keep the problem, or only count it once its rule has MAX_PROBLEMS_LISTED already."""
        if self._listed[rule] >= MAX_PROBLEMS_LISTED:
            self.problems_not_listed[rule] += 1
        else:
            self._listed[rule] += 1
            self.problems.append(
                Problem(self.name, row, column, value, rule, detail, service_code[:SHOWN_CHARS])
            )


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalise_header(cell: str) -> str:
    """'Transactions Total (count)' -> 'transactions_total': case, spacing and notes forgiven."""
    cell = re.sub(r"\(.*?\)", "", cell.replace("\ufeff", "")).strip().lower()
    return re.sub(r"[\s\-]+", "_", cell)


def normalise_cells(cells: dict[str, str]) -> dict[str, str]:
    """The unambiguous readings of a row: thousands separators, yes/no spellings, 'n/a', and
    a sum of money written with a pound sign."""
    row = {}
    for column in COLUMN_NAMES:
        value = cells.get(column, "").strip()
        if column not in REQUIRED_COLUMNS and value.lower() in NOT_GIVEN:
            value = ""
        elif column in COUNT_COLUMNS and THOUSANDS.fullmatch(value):
            value = value.replace(",", "")
        elif column in MONEY_COLUMNS and MONEY.fullmatch(value):
            value = re.sub("[£ ,]", "", value)
        elif column in FLAG_COLUMNS:
            value = FLAG_WORDS.get(value.lower(), value)
        row[column] = value
    return row


def _is_blank(cells: list[str]) -> bool:
    return not any(str(c).strip() for c in cells)


def _find_header(rows: list[tuple[int, list[str]]]) -> int | None:
    """The header is the first row naming three or more contract columns (title rows above it
    are allowed), else the first non-blank row."""
    for index, (_, cells) in enumerate(rows):
        if len({normalise_header(c) for c in cells} & set(COLUMN_NAMES)) >= 3:
            return index
    return next((i for i, (_, cells) in enumerate(rows) if not _is_blank(cells)), None)


def parse_submission(name: str, data: bytes, sender: str | None = None) -> ParsedFile:
    """Read a CSV or XLSX submission and map its cells to contract columns by header name."""
    parsed = ParsedFile(name=name, content_hash=content_hash(data), sender=sender)
    problem = parsed.add_problem
    if not name.lower().endswith(SPREADSHEET_SUFFIXES):
        problem(
            0, "", name.rsplit(".", 1)[-1] if "." in name else "(no extension)", "not_a_spreadsheet"
        )
        return parsed
    try:
        table = read_table(data)
    except Unreadable as error:
        problem(error.row, error.column, error.value, error.rule, error.detail)
        return parsed
    from dagster_project.collect.assessments import parse_assessment  # the other kind of return

    if (assessment := parse_assessment(parsed, data, table)) is not None:
        return assessment
    header_index = _find_header(table.rows)
    if header_index is None:
        problem(0, "", "", "empty_file")
        return parsed
    header = [normalise_header(c) for c in table.rows[header_index][1]]
    while header and not header[-1]:
        header.pop()  # spreadsheets pad rows with empty trailing cells
    for column in REQUIRED_COLUMNS:
        if column not in header:
            problem(0, column, "", "missing_column", column)
    for column in header:
        if column not in COLUMN_NAMES:
            problem(0, column, column, "unknown_column")
    for column in sorted({c for c in header if header.count(c) > 1}):
        problem(0, column, column, "duplicate_column")
    for written, column in zip(table.rows[header_index][1], header, strict=False):
        notes = re.findall(r"\((.*?)\)", str(written))
        if column in MONEY_COLUMNS and any(not POUNDS_NOTE.fullmatch(n.strip()) for n in notes):
            problem(0, column, str(written), "money_unit")
    if parsed.problems:
        return parsed
    body = [(n, cells) for n, cells in table.rows[header_index + 1 :] if not _is_blank(cells)]
    if body and _is_totals_row(body[-1][1], header):
        problem(body[-1][0], "", "", "totals_row_ignored")
        body.pop()
    for number, cells in body:
        if any(str(c).strip() for c in cells[len(header) :]):
            service = (
                str(cells[header.index("service_code")]).strip() if "service_code" in header else ""
            )
            problem(number, "", f"{len(cells)} cells", "row_length", str(len(header)), service)
            continue
        # Programs drop empty trailing cells: a short row's missing cells are empty ones.
        cells = [*cells, *[""] * (len(header) - len(cells))]
        row = normalise_cells(dict(zip(header, cells[: len(header)], strict=True)))
        row["_row"] = str(number)
        parsed.rows.append(row)
    if not parsed.rows and not any(p.severity == ERROR for p in parsed.problems):
        problem(0, "", "", "no_rows")
    return parsed


def _is_totals_row(cells: list[str], header: list[str]) -> bool:
    named = dict(zip(header, cells, strict=False))
    return any(
        TOTALS.fullmatch(str(named.get(c, "")).strip())
        for c in ("body_code", "period", "service_code")
    )


def parse_records(name: str, data: bytes, records: object, sender: str | None = None) -> ParsedFile:
    """Rows given as JSON objects (an API payload), checked like a file's rows; a row's number is
    its position in the list, from 1."""
    parsed = ParsedFile(name=name, content_hash=content_hash(data), sender=sender)
    if not isinstance(records, list) or not records:
        parsed.add_problem(0, "", type(records).__name__, "no_rows")
        return parsed
    if len(records) > MAX_ROWS:
        parsed.add_problem(MAX_ROWS + 1, "", f"{len(records):,} rows", "too_many_rows")
        return parsed
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            parsed.add_problem(number, "", type(record).__name__, "row_length", "an object with")
            continue
        cells = {c: cell_text(record.get(c)) for c in COLUMN_NAMES}
        service = cells["service_code"].strip()
        for column in sorted(set(record) - set(COLUMN_NAMES)):
            name_given = column[:SHOWN_CHARS]  # a key can be as long as the payload
            parsed.add_problem(number, name_given, name_given, "unknown_column", "", service)
        for column, cell in cells.items():
            if len(cell) > MAX_CELL_CHARS:
                parsed.add_problem(
                    number, column, f"{len(cell):,} characters", "cell_too_long", "", service
                )
        row = normalise_cells(cells)
        row["_row"] = str(number)
        parsed.rows.append(row)
    return parsed


ROWS_TABLE_SCHEMA = pa.schema(
    [("file_id", pa.int32()), ("row_number", pa.int32()), ("sender", pa.string())]
    + [(c, pa.string()) for c in COLUMN_NAMES]
)


def rows_table(files: list[ParsedFile]) -> pa.Table:
    """All rows of a batch as one Arrow table of text cells, keyed by file index and row; each
    file's rows together and in row order."""
    columns: dict[str, list] = {"file_id": [], "row_number": [], "sender": []}
    columns.update({c: [] for c in COLUMN_NAMES})
    fast: list[tuple[int, ParsedFile]] = []
    for file_id, parsed in enumerate(files):
        if parsed.table is not None:
            fast.append((file_id, parsed))
            continue
        for row in parsed.rows:
            columns["file_id"].append(file_id)
            columns["row_number"].append(int(row["_row"]))
            columns["sender"].append(parsed.sender)
            for column in COLUMN_NAMES:
                columns[column].append(row[column])
    table = pa.table(columns, schema=ROWS_TABLE_SCHEMA)
    if not fast:
        return table
    counts = [parsed.table.num_rows for _, parsed in fast]
    read_fast = pa.concat_tables([parsed.table for _, parsed in fast])
    read_fast = read_fast.add_column(
        0, "file_id", pa.array(numpy.repeat([f for f, _ in fast], counts), pa.int32())
    ).add_column(
        2, "sender", pa.array(numpy.repeat([p.sender for _, p in fast], counts), pa.string())
    )
    return pa.concat_tables([table, read_fast.cast(ROWS_TABLE_SCHEMA)]).combine_chunks()


HISTORY_SCHEMA = pa.schema(
    [("body_code", pa.string()), ("service_code", pa.string()), ("median_total", pa.float64())]
)
DIGITS = f"regexp_full_match({{0}}, '{WHOLE_NUMBER_PATTERN}')"


def _amount(column: str) -> str:
    return f"regexp_full_match({column}, '{MONEY_PATTERN}')"


def _given_measure_rules(online: str) -> str:
    """The rules between the optional measures of v2 and the counts they are part of; each
    compares two cells only when both are valid whole numbers (else a cell rule says so)."""
    both = "{0} and {1}".format
    started, responses, satisfied, welsh = (
        f"try_cast({c} as hugeint)"
        for c in (
            "online_started",
            "satisfaction_responses",
            "satisfied_responses",
            "transactions_online_welsh",
        )
    )
    online_ok = DIGITS.format("transactions_online")
    return f"""
        select file_id, row_number, 'online_started', online_started,
               'started_not_below_online', transactions_online, service_code, body_code
        from incoming
        where {both(DIGITS.format("online_started"), online_ok)} and {started} < {online}
    union all
        select file_id, row_number, 'satisfaction_responses', satisfaction_responses,
               'satisfied_needs_responses', satisfied_responses, service_code, body_code
        from incoming
        where satisfied_responses <> '' and satisfaction_responses = ''
    union all
        select file_id, row_number, 'satisfied_responses', satisfied_responses,
               'satisfied_not_above_responses', satisfaction_responses, service_code, body_code
        from incoming
        where {both(DIGITS.format("satisfied_responses"), DIGITS.format("satisfaction_responses"))}
          and {satisfied} > {responses}
    union all
        select file_id, row_number, 'transactions_online_welsh', transactions_online_welsh,
               'welsh_not_above_online', transactions_online, service_code, body_code
        from incoming
        where {both(DIGITS.format("transactions_online_welsh"), online_ok)} and {welsh} > {online}
    """


def _set_rules_sql() -> str:
    """Rules across rows, files and reference data, as one query; every branch yields
    (file_id, row_number, column, value, rule, detail, service_code, body_code), the last two
    the row's own. Cell rules are the GX suite's job."""
    channels_all = " and ".join(DIGITS.format(c) for c in CHANNEL_COLUMNS)
    channels_any = " or ".join(DIGITS.format(c) for c in CHANNEL_COLUMNS)
    channel_sum = " + ".join(f"coalesce(try_cast({c} as hugeint), 0)" for c in CHANNEL_COLUMNS)
    counts_ok = f"{DIGITS.format('transactions_online')} and {DIGITS.format('transactions_total')}"
    # try_cast: digits too many even for a hugeint are the too_large rule's, never a failed batch
    online, total = (
        f"try_cast({c} as hugeint)" for c in ("transactions_online", "transactions_total")
    )
    too_large = "\n    union all".join(
        f"""
        select file_id, row_number, '{c}', {c}, 'too_large', '', service_code, body_code
        from incoming where {DIGITS.format(c)} and length(ltrim({c}, '0')) > 15"""
        for c in COUNT_COLUMNS
    )
    too_large += "".join(
        f"""
    union all
        select file_id, row_number, '{c}', {c}, 'too_large', '', service_code, body_code
        from incoming
        where {_amount(c)} and length(ltrim(split_part({c}, '.', 1), '0')) > 15"""
        for c in MONEY_COLUMNS
    )
    return f"""
        select file_id, row_number, 'period', period, 'period_future', $current_period,
               service_code, body_code
        from incoming
        where regexp_full_match(period, '[0-9]{{4}}-(0[1-9]|1[0-2])') and period > $current_period
    union all
        select i.file_id, i.row_number, 'period', i.period, 'before_onboarding', b.onboarded,
               i.service_code, i.body_code
        from incoming i join bodies b using (body_code)
        where regexp_full_match(i.period, '[0-9]{{4}}-(0[1-9]|1[0-2])') and i.period < b.onboarded
    union all
        select file_id, row_number, 'body_code', body_code, 'known_body', '',
               service_code, body_code
        from incoming where body_code <> '' and body_code not in (select body_code from bodies)
    union all
        select file_id, row_number, 'body_code', body_code, 'wrong_body', sender,
               service_code, body_code
        from incoming
        where sender is not null and body_code <> '' and body_code <> sender
          and body_code in (select body_code from bodies)
    union all
        select i.file_id, i.row_number, 'body_code', i.body_code, 'one_body_per_file', f.body_code,
               i.service_code, i.body_code
        from incoming i join (
            select file_id, arg_min(body_code, row_number) as body_code
            from incoming group by file_id
        ) f using (file_id)
        where i.sender is null and i.body_code <> f.body_code
    union all
        select i.file_id, i.row_number, 'service_code', i.service_code, 'known_service', b.sector,
               i.service_code, i.body_code
        from incoming i join bodies b using (body_code)
        left join services s on s.service_code = i.service_code and s.sector = b.sector
        where i.service_code <> '' and s.service_code is null
    union all
        select file_id, row_number, 'transactions_online', transactions_online,
               'online_not_above_total', transactions_total, service_code, body_code
        from incoming
        where {counts_ok} and {online} > {total}
    union all
        select file_id, row_number, 'transactions_total', transactions_total,
               case when {channels_all} then 'channels_add_up' else 'channels_exceed_total' end,
               ({online} + {channel_sum})::varchar, service_code, body_code
        from incoming
        where {counts_ok} and ({channels_any})
          and {online} <= {total}
          and case when {channels_all}
                   then {online} + {channel_sum} <> {total}
                   else {online} + {channel_sum} > {total}
              end
    union all
        select file_id, row_number, 'service_code', service_code, 'duplicate_row',
               first_row::varchar, service_code, body_code
        from (
            select *, min(row_number) over (partition by file_id, body_code, period, service_code)
                   as first_row
            from incoming
        ) where row_number > first_row
    union all
        select i.file_id, i.row_number, 'transactions_total', i.transactions_total,
               'volume_outlier', round(h.median_total)::bigint::varchar,
               i.service_code, i.body_code
        from incoming i join history h using (body_code, service_code)
        where {DIGITS.format("i.transactions_total")} and h.median_total >= 50
          and (i.transactions_total::double > 10 * h.median_total
               or i.transactions_total::double < h.median_total / 10)
    union all {_given_measure_rules(online)}
    union all {too_large}
    """


NotListed = Counter[tuple[int, str]]  # problems counted, not built: (file_id, rule) -> how many


def cell_rule_problems_gx(
    files: list[ParsedFile], incoming: pa.Table
) -> tuple[list[Problem], NotListed]:
    """Run the GX suite of cell rules once over every row of the batch through Great
    Expectations on a pandas copy: the reference `cell_rules.cell_rule_problems` is proven
    against (tests/test_expectations_sql.py); build the first
    MAX_PROBLEMS_LISTED problems of each rule and file, count the rest."""
    from expectations.runner import run_suite

    not_listed: NotListed = Counter()
    if incoming.num_rows == 0:
        return [], not_listed
    frame = incoming.to_pandas().replace("", None)
    outcome = run_suite("submission_rows", frame)
    file_ids = frame["file_id"].to_numpy()
    row_numbers = frame["row_number"].to_numpy()
    services = frame["service_code"].to_numpy()
    problems = []
    for result in outcome.outcomes:
        rule = result.meta["rule"]
        values = frame[result.column].to_numpy()
        listed: Counter[int] = Counter()
        for position in result.unexpected_rows:
            file_id = int(file_ids[position])
            if listed[file_id] >= MAX_PROBLEMS_LISTED:
                not_listed[file_id, rule] += 1
                continue
            listed[file_id] += 1
            value, service = values[position], services[position]
            problems.append(
                Problem(
                    files[file_id].name,
                    int(row_numbers[position]),
                    result.column,
                    "" if pd.isna(value) else str(value),
                    rule,
                    service_code="" if pd.isna(service) else str(service)[:SHOWN_CHARS],
                )
            )
    return problems, not_listed


def check_rows(
    files: list[ParsedFile],
    reference: Reference,
    today: date,
    history: pa.Table | None = None,
    gx_sample_rows: int = GX_SAMPLE_ROWS,
) -> tuple[list[Problem], NotListed]:
    """Every row rule over every row of the batch: the first MAX_PROBLEMS_LISTED problems of
    each rule and file, and how many more of each there are. Great Expectations checks the
    cell rules' SQL over `gx_sample_rows` rows of the batch (cell_rules.py)."""
    incoming = rows_table(files)
    problems, not_listed = cell_rule_problems(files, incoming, gx_sample_rows)
    con = duckdb.connect()
    try:
        con.register("incoming", incoming)
        con.register(
            "bodies",
            pa.Table.from_pylist(
                [
                    {
                        "body_code": b["body_code"],
                        "sector": b["sector"],
                        "onboarded": b["onboarded"],
                    }
                    for b in reference.bodies
                ],
                schema=pa.schema(
                    [
                        ("body_code", pa.string()),
                        ("sector", pa.string()),
                        ("onboarded", pa.string()),
                    ]
                ),
            ),
        )
        con.register(
            "services",
            pa.Table.from_pylist(
                [
                    {"service_code": s["service_code"], "sector": s["sector"]}
                    for s in reference.services
                ],
                schema=pa.schema([("service_code", pa.string()), ("sector", pa.string())]),
            ),
        )
        con.register("history", history if history is not None else HISTORY_SCHEMA.empty_table())
        # Only the first problems of each rule and file leave DuckDB, with the count of all.
        found = con.execute(
            f"""
            select *, count(*) over (partition by file_id, rule) as found_of_rule
            from ({_set_rules_sql()}) as found(
                file_id, row_no, column_name, value, rule, detail, service_code, body_code
            )
            qualify row_number() over (
                partition by file_id, rule order by row_no, column_name, value
            ) <= $listed
            """,
            {"current_period": today.strftime("%Y-%m"), "listed": MAX_PROBLEMS_LISTED},
        ).fetchall()
    finally:
        con.close()
    listed: Counter[tuple[int, str]] = Counter()
    of_rule: dict[tuple[int, str], int] = {}
    for f, row, column, value, rule, detail, service, body, found_of_rule in found:
        nearest, valid = (
            service_suggestions(value or "", body, reference)
            if rule == "known_service"
            else ((), ())
        )
        problems.append(
            Problem(
                files[f].name,
                row,
                column,
                value or "",
                rule,
                detail or "",
                (service or "")[:SHOWN_CHARS],
                nearest,
                valid,
            )
        )
        listed[f, rule] += 1
        of_rule[f, rule] = found_of_rule
    for key, count in of_rule.items():
        not_listed[key] += count - listed[key]
    return problems, not_listed


def service_suggestions(
    found: str, body_code: str, reference: Reference
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """For an unknown service code: the nearest valid codes by edit distance (difflib), first
    among the services the body is expected to report, then its sector's catalogue; and every
    code the body may use when they are at most FEW_SERVICES or none is near."""
    sector = next((b["sector"] for b in reference.bodies if b["body_code"] == body_code), None)
    of_sector = sorted(s["service_code"] for s in reference.services if s["sector"] == sector)
    expected = [code for code in reference.services_of(body_code) if code in of_sector]
    expected = expected or of_sector
    nearest = difflib.get_close_matches(found, expected, n=NEAREST_SHOWN, cutoff=0.6)
    if not nearest:
        others = [code for code in of_sector if code not in expected]
        nearest = difflib.get_close_matches(found, others, n=NEAREST_SHOWN, cutoff=0.6)
    valid = expected if len(expected) <= FEW_SERVICES or not nearest else []
    return tuple(nearest), tuple(code for code in valid if code not in nearest)


def _listed(name: str, found: list[Problem], not_listed: Counter[str]) -> list[Problem]:
    """At most MAX_PROBLEMS_LISTED problems, errors first so a rejected file always shows why,
    then one line per severity saying how many more there are and of which rules."""
    found = sorted(found, key=lambda p: (p.severity != ERROR, p))
    not_listed = not_listed + Counter(p.rule for p in found[MAX_PROBLEMS_LISTED:])
    listed = found[:MAX_PROBLEMS_LISTED]
    for severity, summary_rule in NOT_LISTED_RULES.items():
        rules = sorted(r for r in not_listed if RULES[r].severity == severity)
        if rules:
            count = sum(not_listed[r] for r in rules)
            listed.append(Problem(name, 0, "", f"{count:,}", summary_rule, ", ".join(rules)))
    return sorted(listed)


def problem_counts(problems: list[Problem]) -> tuple[int, int]:
    """(errors, warnings) of a file, the listed and the only counted alike."""
    counts = {ERROR: 0, WARNING: 0}
    for p in problems:
        if p.rule in NOT_LISTED_RULES.values():
            counts[p.severity] += int(p.value.replace(",", ""))
        else:
            counts[p.severity] += 1
    return counts[ERROR], counts[WARNING]


def validate_files(
    files: list[ParsedFile],
    reference: Reference,
    today: date,
    history: pa.Table | None = None,
    gx_sample_rows: int = GX_SAMPLE_ROWS,
) -> dict[str, list[Problem]]:
    """Every problem of every file in the batch, by file name, sorted; a file is accepted when
    none of its problems is an error. `history` (body_code, service_code, median_total) enables
    the volume check. At most MAX_PROBLEMS_LISTED problems a file, errors first, then a
    `more_errors` / `more_warnings` line for the rest (see `problem_counts`)."""
    from dagster_project.collect.assessments import is_assessment, validate_assessments

    checked = validate_assessments([f for f in files if is_assessment(f)], reference, today)
    files = [f for f in files if not is_assessment(f)]  # assessment returns have their own rules
    problems: dict[str, list[Problem]] = {f.name: list(f.problems) for f in files}
    not_listed: dict[str, Counter[str]] = {f.name: Counter(f.problems_not_listed) for f in files}
    row_problems, rows_not_listed = check_rows(files, reference, today, history, gx_sample_rows)
    for problem in row_problems:
        problems[problem.file].append(problem)
    for (file_id, rule), count in rows_not_listed.items():
        not_listed[files[file_id].name][rule] += count
    return {
        **{name: _listed(name, found, not_listed[name]) for name, found in problems.items()},
        **checked,
    }


def rejected(problems: list[Problem]) -> bool:
    return any(p.severity == ERROR for p in problems)
