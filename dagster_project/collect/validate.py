"""Read submission files and check them against the data contract.

Parsing is per file (it is about bytes and headers); the row rules run once, set-based in DuckDB,
over every row of a batch of files, so a thousand files cost one query, not a thousand.
Cell values only ever reach DuckDB as data in an Arrow table, never as SQL text.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pyarrow as pa

from dagster_project.collect.contract import (
    CHANNEL_COLUMNS,
    COLUMN_NAMES,
    COUNT_COLUMNS,
    FLAG_COLUMNS,
    NOT_GIVEN,
    REQUIRED_COLUMNS,
)
from dagster_project.reference import Reference

# Files bigger than this are not read at all: a monthly return is a few kilobytes.
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a submission, located well enough for the body to fix it."""

    file: str
    row: int  # line in the file, header = 1; 0 for a problem with the whole file
    column: str
    value: str
    rule: str
    expected: str

    def describe(self) -> str:
        where = f"row {self.row}, column '{self.column}'" if self.row else "whole file"
        if self.row and not self.column:
            where = f"row {self.row}"
        found = f"found {self.value!r}" if self.value else "found nothing"
        return f"{self.file}: {where}: {found}; expected {self.expected} [{self.rule}]"


@dataclass
class ParsedFile:
    """A submission file read into text cells; `problems` holds file-level problems only."""

    name: str
    content_hash: str
    rows: list[dict[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _normalise_header(cell: str) -> str:
    return cell.strip().lower().replace(" ", "_")


def parse_submission(name: str, data: bytes) -> ParsedFile:
    """Decode a CSV submission and map its cells to contract columns by header name."""
    parsed = ParsedFile(name=name, content_hash=content_hash(data))

    def reject(rule: str, value: str, expected: str, column: str = "") -> ParsedFile:
        parsed.problems.append(Problem(name, 0, column, value, rule, expected))
        return parsed

    if len(data) > MAX_FILE_BYTES:
        return reject("file_too_large", f"{len(data)} bytes", f"at most {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return reject(
            "encoding",
            f"byte {data[error.start]:#04x} at offset {error.start}",
            "a CSV file saved as UTF-8",
        )
    lines = list(csv.reader(io.StringIO(text, newline="")))
    header_index = next((i for i, line in enumerate(lines) if any(c.strip() for c in line)), None)
    if header_index is None:
        return reject("empty_file", "", "a header row and at least one data row")
    header = [_normalise_header(c) for c in lines[header_index]]
    for column in REQUIRED_COLUMNS:
        if column not in header:
            reject("missing_column", "", f"a column named '{column}'", column)
    for column in header:
        if column not in COLUMN_NAMES:
            reject(
                "unknown_column",
                column,
                f"only the contract's columns: {', '.join(COLUMN_NAMES)}",
                column,
            )
    duplicates = sorted({c for c in header if header.count(c) > 1})
    for column in duplicates:
        reject("duplicate_column", column, "each column once", column)
    if parsed.problems:
        return parsed
    for offset, line in enumerate(lines[header_index + 1 :], start=header_index + 2):
        if not any(c.strip() for c in line):
            continue  # blank rows carry nothing
        if len(line) != len(header):
            parsed.problems.append(
                Problem(
                    name,
                    offset,
                    "",
                    f"{len(line)} cells",
                    "row_length",
                    f"{len(header)} cells, one per header column",
                )
            )
            continue
        cells = {column: cell.strip() for column, cell in zip(header, line, strict=True)}
        row = {column: cells.get(column, "") for column in COLUMN_NAMES}
        for column in COLUMN_NAMES:
            if column not in REQUIRED_COLUMNS and row[column].lower() in NOT_GIVEN:
                row[column] = ""
        row["_row"] = str(offset)
        parsed.rows.append(row)
    if not parsed.rows and not parsed.problems:
        reject("no_rows", "", "at least one data row under the header")
    return parsed


def parse_records(name: str, data: bytes, records: object) -> ParsedFile:
    """Rows given as JSON objects (an API payload), checked like a file's rows; a row's number is
    its position in the list, from 1."""
    parsed = ParsedFile(name=name, content_hash=content_hash(data))
    if not isinstance(records, list) or not records:
        parsed.problems.append(
            Problem(
                name,
                0,
                "",
                type(records).__name__,
                "no_rows",
                "a non-empty list of submission rows",
            )
        )
        return parsed
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            parsed.problems.append(
                Problem(
                    name,
                    number,
                    "",
                    type(record).__name__,
                    "row_length",
                    "an object with the contract's fields",
                )
            )
            continue
        unknown = sorted(set(record) - set(COLUMN_NAMES))
        for column in unknown:
            parsed.problems.append(
                Problem(
                    name,
                    number,
                    column,
                    column,
                    "unknown_column",
                    f"only the contract's columns: {', '.join(COLUMN_NAMES)}",
                )
            )
        row = {c: _json_cell(record.get(c)) for c in COLUMN_NAMES}
        for column in COLUMN_NAMES:
            if column not in REQUIRED_COLUMNS and row[column].lower() in NOT_GIVEN:
                row[column] = ""
        row["_row"] = str(number)
        parsed.rows.append(row)
    return parsed


def _json_cell(value: object) -> str:
    """A JSON value as the text a CSV cell would hold: booleans as yes/no, null as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 1200.0 is unambiguously 1200
    return str(value).strip()


def rows_table(files: list[ParsedFile]) -> pa.Table:
    """All rows of a batch as one Arrow table of text cells, keyed by file index and row."""
    columns: dict[str, list] = {"file_id": [], "row_number": []}
    columns.update({c: [] for c in COLUMN_NAMES})
    for file_id, parsed in enumerate(files):
        for row in parsed.rows:
            columns["file_id"].append(file_id)
            columns["row_number"].append(int(row["_row"]))
            for column in COLUMN_NAMES:
                columns[column].append(row[column])
    schema = pa.schema(
        [("file_id", pa.int32()), ("row_number", pa.int32())]
        + [(c, pa.string()) for c in COLUMN_NAMES]
    )
    return pa.table(columns, schema=schema)


def _rule_sql() -> str:
    """The row rules as one set-based query; every branch yields
    (file_id, row_number, column, value, rule, expected)."""
    parts = []
    for column in REQUIRED_COLUMNS:
        parts.append(f"""
        select file_id, row_number, '{column}', '', 'required', 'a value (this column is required)'
        from incoming where {column} = ''""")
    for column in COUNT_COLUMNS:
        parts.append(f"""
        select file_id, row_number, '{column}', {column}, 'whole_number',
               'a whole number of 0 or more, digits only (e.g. 1250)'
        from incoming where {column} <> '' and not regexp_full_match({column}, '[0-9]+')""")
    for column in FLAG_COLUMNS:
        parts.append(f"""
        select file_id, row_number, '{column}', {column}, 'yes_no', 'yes or no'
        from incoming where {column} <> '' and lower({column}) not in ('yes', 'no')""")
    channels = " and ".join(f"regexp_full_match({c}, '[0-9]+')" for c in CHANNEL_COLUMNS)
    channel_sum = " + ".join(f"{c}::hugeint" for c in CHANNEL_COLUMNS)
    parts.append(f"""
        select file_id, row_number, 'period', period, 'period_format',
               'a month written YYYY-MM, e.g. 2025-04'
        from incoming
        where period <> '' and not regexp_full_match(period, '[0-9]{{4}}-(0[1-9]|1[0-2])')
    union all
        select file_id, row_number, 'period', period, 'period_future',
               'a month no later than ' || $current_period
        from incoming
        where regexp_full_match(period, '[0-9]{{4}}-(0[1-9]|1[0-2])') and period > $current_period
    union all
        select file_id, row_number, 'body_code', body_code, 'known_body',
               'a body code from the register of public bodies (e.g. W06000015)'
        from incoming where body_code <> '' and body_code not in (select body_code from bodies)
    union all
        select i.file_id, i.row_number, 'body_code', i.body_code, 'one_body_per_file',
               'the same body_code on every row of a file (first row has ' || f.body_code || ')'
        from incoming i join (
            select file_id, arg_min(body_code, row_number) as body_code
            from incoming group by file_id
        ) f using (file_id)
        where i.body_code <> f.body_code
    union all
        select i.file_id, i.row_number, 'service_code', i.service_code, 'known_service',
               'a service code from the catalogue for the ' || b.sector || ' sector'
        from incoming i join bodies b using (body_code)
        left join services s on s.service_code = i.service_code and s.sector = b.sector
        where i.service_code <> '' and s.service_code is null
    union all
        select file_id, row_number, 'transactions_online', transactions_online,
               'online_not_above_total',
               'no more than transactions_total (' || transactions_total || ')'
        from incoming
        where regexp_full_match(transactions_online, '[0-9]+')
          and regexp_full_match(transactions_total, '[0-9]+')
          and transactions_online::hugeint > transactions_total::hugeint
    union all
        select file_id, row_number, 'transactions_total', transactions_total, 'channels_add_up',
               'online + phone + face to face + paper + other = total; they add up to '
               || (transactions_online::hugeint + {channel_sum})::varchar
        from incoming
        where {channels} and regexp_full_match(transactions_online, '[0-9]+')
          and regexp_full_match(transactions_total, '[0-9]+')
          and transactions_online::hugeint + {channel_sum} <> transactions_total::hugeint
    union all
        select file_id, row_number, 'service_code', service_code, 'duplicate_row',
               'one row per body, period and service; row ' || first_row || ' has the same'
        from (
            select *, min(row_number) over (partition by file_id, body_code, period, service_code)
                   as first_row
            from incoming
        ) where row_number > first_row""")
    # Integer columns are stored as BIGINT: a value beyond that range is not a plausible count.
    for column in COUNT_COLUMNS:
        parts.append(f"""
        select file_id, row_number, '{column}', {column}, 'too_large', 'a count below 10^15'
        from incoming
        where regexp_full_match({column}, '[0-9]+') and length(ltrim({column}, '0')) > 15""")
    return "\nunion all".join(parts)


def check_rows(
    con: duckdb.DuckDBPyConnection, files: list[ParsedFile], reference: Reference, today: date
) -> list[Problem]:
    """Run every row rule over all rows of the batch; `incoming` must already be registered."""
    con.register(
        "bodies",
        pa.Table.from_pylist(
            [{"body_code": b["body_code"], "sector": b["sector"]} for b in reference.bodies],
            schema=pa.schema([("body_code", pa.string()), ("sector", pa.string())]),
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
    found = con.execute(_rule_sql(), {"current_period": today.strftime("%Y-%m")}).fetchall()
    return sorted(
        Problem(files[file_id].name, row, column, value, rule, expected)
        for file_id, row, column, value, rule, expected in found
    )


def validate_files(
    files: list[ParsedFile], reference: Reference, today: date
) -> dict[str, list[Problem]]:
    """Every problem of every file in the batch, by file name (an empty list means accepted)."""
    con = duckdb.connect()
    con.register("incoming", rows_table(files))
    row_problems = check_rows(con, files, reference, today)
    con.close()
    problems: dict[str, list[Problem]] = {f.name: sorted(f.problems) for f in files}
    for problem in row_problems:
        problems[problem.file].append(problem)
    return problems
