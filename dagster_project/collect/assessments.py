"""Digital Service Standard for Wales assessment returns: the second kind of return, sent to the
same landing folders and checked by the same validator (`digital-progress validate`) as the
monthly one. A file is an assessment return when its header names `assessed_on` and `standard`:

    body_code, service_code, assessed_on, standard, result

one row per standard (dbt/seeds/standards.csv) of one assessment of one service. Every
(service, assessed_on) carries every standard exactly once; `result` is met, partly_met or
not_met. Every row of a file loads into raw.assessments or none does, in the same transaction
as the file's row of raw.submission_files (return_kind 'assessment', no periods: an assessment
is never a monthly return, so it can neither make nor excuse a late one). A resubmission is a
new load_sequence; every version is kept.

Assessment files are few and small (twelve rows an assessment, a few a quarter a body), so
their rules run here in Python, file by file, rather than in the batch's DuckDB query; the
problems are capped and counted as the monthly ones are (validate._listed)."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from typing import ClassVar

import pyarrow as pa

from dagster_project.catalogue import text
from dagster_project.collect.contract import COLUMN_NAMES
from dagster_project.collect.read import (
    MAX_PROBLEMS_LISTED,
    MAX_ROWS,
    XLSX_MAGIC,
    Table,
    _sheet_rows,
)
from dagster_project.collect.rules import Problem, row_ranges
from dagster_project.collect.validate import (
    SHOWN_CHARS,
    ParsedFile,
    _is_blank,
    _listed,
    normalise_header,
    service_suggestions,
)
from dagster_project.reference import Reference

ASSESSMENT_COLUMNS: tuple[str, ...] = (
    "body_code",
    "service_code",
    "assessed_on",
    "standard",
    "result",
)
# The header names that make a file an assessment return rather than a monthly one.
MARKERS = frozenset({"assessed_on", "standard"})
RESULTS: tuple[str, ...] = ("met", "partly_met", "not_met")
# Case, and a space or hyphen for the underscore, are forgiven ("Met", "Partly met",
# "not-met"): each such spelling is one of the three results and no other. Anything else
# ("partial", "pass", "yes", a Welsh word) is refused: guessing would publish a result the
# assessors did not give.
_SEPARATORS = re.compile(r"[\s_-]+")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# ASCII digits only: str.isdigit() also takes "²" and "١٢", which int() refuses or reads.
STANDARD = re.compile(r"[0-9]{1,3}")
EARLIEST = date(2000, 1, 1)  # the Standard is far younger: an earlier year is a typing slip
MONTHLY_HEADER_COLUMNS = 3  # validate._find_header: a row naming this many is a monthly header
MONTHLY_COLUMNS = frozenset(COLUMN_NAMES)


def standard_numbers(reference: Reference) -> tuple[int, ...]:
    """The standards' numbers, from the reference data (dbt/seeds/standards.csv)."""
    return tuple(sorted(int(row["standard"]) for row in reference.standards))


@dataclass
class AssessmentFile(ParsedFile):
    """A parsed assessment return: its rows hold ASSESSMENT_COLUMNS (and `_row`), as text."""

    return_kind: ClassVar[str] = "assessment"

    def periods(self) -> list[str]:
        """No months: an assessment is never a monthly return (submission_returns)."""
        return []


def is_assessment(parsed: ParsedFile) -> bool:
    return isinstance(parsed, AssessmentFile)


def return_kind(parsed: ParsedFile) -> str:
    """'assessment' or 'monthly': raw.submission_files.return_kind."""
    return AssessmentFile.return_kind if is_assessment(parsed) else "monthly"


# Every file read by the Python reader asks whether it is an assessment: header cells repeat
# from file to file, so their normalised names are remembered (a monthly file's question then
# costs about a microsecond a cell instead of four).
_header_name = lru_cache(maxsize=4_096)(normalise_header)


def assessment_header(rows: list[tuple[int, list[str]]]) -> int | None:
    """The index of an assessment return's header: the first row naming `assessed_on` and
    `standard`, unless a monthly header (validate._find_header) comes before it."""
    for index, (_, cells) in enumerate(rows):
        names = {_header_name(str(c)) for c in cells}
        if names >= MARKERS:
            return index
        if len(names & MONTHLY_COLUMNS) >= MONTHLY_HEADER_COLUMNS:
            return None
    return None


def normalise_result(value: str) -> str:
    """'Partly met' -> 'partly_met'; a value that is not one of RESULTS is kept as written."""
    spelled = _SEPARATORS.sub("_", value.strip().lower()).strip("_")
    return spelled if spelled in RESULTS else value.strip()


def _workbook_dates(data: bytes) -> dict[tuple[int, int], date]:
    """The cells of a workbook that hold a date, by (row, column index from 0): the reader
    gives a date cell as its month (read.cell_text), and an assessment needs its day."""
    return {
        (number, position): value.date() if isinstance(value, datetime) else value
        for number, values in _sheet_rows(data)
        for position, value in enumerate(values)
        if isinstance(value, datetime | date)
    }


def parse_assessment(parsed: ParsedFile, data: bytes, table: Table) -> AssessmentFile | None:
    """The file read as an assessment return, or None when its header is a monthly one. The
    header is checked against ASSESSMENT_COLUMNS; cells are kept as text, the result and a
    workbook's date cells read as they were meant."""
    start = assessment_header(table.rows)
    if start is None:
        return None
    found = AssessmentFile(parsed.name, parsed.content_hash, parsed.sender)
    problem = found.add_problem
    header = [normalise_header(c) for c in table.rows[start][1]]
    while header and not header[-1]:
        header.pop()
    for column in ASSESSMENT_COLUMNS:
        if column not in header:
            problem(0, column, "", "missing_column", column)
    for column in header:
        if column not in ASSESSMENT_COLUMNS:
            problem(0, column, column, "unknown_column")
    for column in sorted({c for c in header if header.count(c) > 1}):
        problem(0, column, column, "duplicate_column")
    if found.problems:
        return found
    dates = _workbook_dates(data) if data.startswith(XLSX_MAGIC) else {}
    where = {column: header.index(column) for column in ASSESSMENT_COLUMNS}
    for number, cells in table.rows[start + 1 :]:
        if _is_blank(cells):
            continue
        if any(str(c).strip() for c in cells[len(header) :]):
            service = str(cells[where["service_code"]]).strip()
            problem(number, "", f"{len(cells)} cells", "row_length", str(len(header)), service)
            continue
        cells = [*cells, *[""] * (len(header) - len(cells))]
        row = {column: str(cells[where[column]]).strip() for column in ASSESSMENT_COLUMNS}
        written = dates.get((number, where["assessed_on"]))
        if written is not None:
            row["assessed_on"] = written.isoformat()
        row["result"] = normalise_result(row["result"])
        row["_row"] = str(number)
        found.rows.append(row)
    if not found.rows and not found.problems:
        problem(0, "", "", "no_rows")
    return found


class _Found:
    """One file's problems, at most MAX_PROBLEMS_LISTED of each rule, the rest counted."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []
        self.listed: Counter[str] = Counter()
        self.not_listed: Counter[str] = Counter()

    def add(self, row: dict[str, str], column: str, rule: str, detail: str = "", **more) -> None:
        """A problem of `row`'s cell in `column` (or `more["value"]` for what was found)."""
        if self.listed[rule] >= MAX_PROBLEMS_LISTED:
            self.not_listed[rule] += 1
            return
        self.listed[rule] += 1
        value = more.pop("value", row[column])
        service = row["service_code"][:SHOWN_CHARS]
        self.problems.append(
            Problem(self.name, int(row["_row"]), column, value, rule, detail, service, **more)
        )


def assessed_on(value: str) -> date | None:
    """The date written YYYY-MM-DD, or None when it is not a real date so written."""
    if not ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _check_file(parsed: AssessmentFile, reference: Reference, today: date) -> _Found:
    """The row rules, then each assessment (body, service, assessed_on) for its standards."""
    found = _Found(parsed.name)
    add = found.add
    sectors = {b["body_code"]: b["sector"] for b in reference.bodies}
    catalogue = {(s["sector"], s["service_code"]) for s in reference.services}
    numbers = standard_numbers(reference)
    delivered = cache(reference.services_of)
    first_body = parsed.rows[0]["body_code"] if parsed.rows else ""
    suggested: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}
    # each assessment's first row, and the standards it gives (the first row of each)
    assessments: dict[tuple[str, str, date], tuple[dict[str, str], dict[int, int]]] = {}
    for row in parsed.rows:
        body, service = row["body_code"], row["service_code"]
        for column in ASSESSMENT_COLUMNS:
            if not row[column]:
                add(row, column, "required")
        if body and body not in sectors:
            add(row, "body_code", "known_body")
        elif body and parsed.sender is not None and body != parsed.sender:
            add(row, "body_code", "wrong_body", parsed.sender)
        elif body and parsed.sender is None and body != first_body:
            add(row, "body_code", "one_body_per_file", first_body)
        if body in sectors and service and (sectors[body], service) not in catalogue:
            if (service, body) not in suggested:  # the same wrong code on every row: once
                suggested[service, body] = service_suggestions(service, body, reference)
            nearest, valid = suggested[service, body]
            add(row, "service_code", "known_service", sectors[body], nearest=nearest, valid=valid)
        elif body in sectors and service and service not in delivered(body):
            # a catalogue service of its sector that another body delivers: never published
            # under this body's name
            add(row, "service_code", "assessed_service_delivered", ", ".join(delivered(body)))
        day = assessed_on(row["assessed_on"])
        if row["assessed_on"] and day is None:
            add(row, "assessed_on", "assessed_on_format")
        elif day is not None and day > today:
            add(row, "assessed_on", "assessed_on_future", today.isoformat())
        elif day is not None and day < EARLIEST:
            add(row, "assessed_on", "assessed_on_too_early", EARLIEST.isoformat())
        written = row["standard"]
        standard = int(written) if STANDARD.fullmatch(written) else None
        if written and standard not in numbers:
            add(row, "standard", "standard_number", row_ranges(numbers))
            standard = None
        if row["result"] and row["result"] not in RESULTS:
            add(row, "result", "assessment_result")
        if day is None or not service:
            continue  # which assessment the row belongs to is not known
        first, standards = assessments.setdefault((body, service, day), (row, {}))
        if standard is not None:
            earlier = standards.setdefault(standard, int(row["_row"]))
            if earlier != int(row["_row"]):
                add(row, "standard", "duplicate_standard", str(earlier))
    for first, standards in assessments.values():
        missing = sorted(set(numbers) - set(standards))
        if missing:
            add(first, "standard", "standards_incomplete", row_ranges(missing),
                value=row_ranges(standards))  # fmt: skip
    return found


def validate_assessments(
    files: list[ParsedFile], reference: Reference, today: date
) -> dict[str, list[Problem]]:
    """Every problem of each assessment file, by file name, listed as validate_files lists a
    monthly file's (errors first, at most MAX_PROBLEMS_LISTED, the rest counted)."""
    checked = {}
    for parsed in files:
        assert isinstance(parsed, AssessmentFile)
        found = _check_file(parsed, reference, today)
        not_listed = Counter(parsed.problems_not_listed) + found.not_listed
        checked[parsed.name] = _listed(parsed.name, [*parsed.problems, *found.problems], not_listed)
    return checked


ASSESSMENTS_SCHEMA = pa.schema(
    [
        ("load_sequence", pa.int32()),
        ("file_name", pa.string()),
        ("content_hash", pa.string()),
        ("loaded_at", pa.timestamp("us")),
        ("row_number", pa.int32()),
        ("body_code", pa.string()),
        ("service_code", pa.string()),
        ("assessed_on", pa.date32()),
        ("standard", pa.int32()),
        ("result", pa.string()),
    ]
)


def assessment_rows(files: list[tuple[int, AssessmentFile]], loaded_at: datetime) -> pa.Table:
    """The rows of accepted assessment files, typed as raw.assessments holds them, each with
    its file's load_sequence: data for an insert, never SQL text."""
    columns: dict[str, list] = {field.name: [] for field in ASSESSMENTS_SCHEMA}
    for sequence, parsed in files:
        for row in parsed.rows:
            columns["load_sequence"].append(sequence)
            columns["file_name"].append(parsed.name)
            columns["content_hash"].append(parsed.content_hash)
            columns["loaded_at"].append(loaded_at)
            columns["row_number"].append(int(row["_row"]))
            columns["body_code"].append(row["body_code"])
            columns["service_code"].append(row["service_code"])
            columns["assessed_on"].append(date.fromisoformat(row["assessed_on"]))
            columns["standard"].append(int(row["standard"]))
            columns["result"].append(row["result"])
    return pa.table(columns, schema=ASSESSMENTS_SCHEMA)


INSERT_ASSESSMENTS_SQL = "insert into raw.assessments by name select * from new_assessments"


# The template -------------------------------------------------------------------------------

TEMPLATE_DATE_FORMAT = "yyyy-mm-dd"  # a date typed in the workbook is read with its day
COLUMN_WIDTHS = [14, 28, 14, 10, 14]


def _both(key: str, **values: object) -> str:
    return f"{text(key, 'en', **values)} / {text(key, 'cy', **values)}"


def template_rows(reference: Reference, body: str | None = None) -> list[list[object]]:
    """A row per standard, its number filled in (and the body's code, for one body): sent back
    unfilled, it is rejected (`required`), never loaded."""
    return [[body, None, None, number, None] for number in standard_numbers(reference)]


def template_csv(reference: Reference, body: str | None = None) -> bytes:
    """The assessment return as CSV: its header, and a row per standard to fill in."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ASSESSMENT_COLUMNS)
    writer.writerows(["" if c is None else c for c in r] for r in template_rows(reference, body))
    return out.getvalue().encode("utf-8")


def template_xlsx(
    reference: Reference, body: str | None = None, sector: str | None = None
) -> bytes:
    """The assessment return as a workbook: its sheet first (the reader takes the first sheet
    of a workbook without a Submission sheet), a row per standard, drop-downs for the codes and
    results, the date column formatted as a date; then the standards, help in English and
    Welsh, and the services and bodies to choose from. Same reference data, same bytes."""
    from dagster_project.collect.template import (
        _range,
        template_scope,
        template_sheet_names,
    )
    from exports.cells import Sheet, WorkbookWriter

    bodies, services = template_scope(reference, body, sector)
    names = template_sheet_names()
    sectors = {lang: reference.sector_names(lang) for lang in ("en", "cy")}
    first, last = standard_numbers(reference)[0], standard_numbers(reference)[-1]
    sheet_name = _both("assessments.sheets.assessment").replace(" / ", " - ")
    writer = WorkbookWriter()
    rows = template_rows(reference, body)
    sheet = writer.add(Sheet(sheet_name, ASSESSMENT_COLUMNS, rows, widths=COLUMN_WIDTHS))
    sheet.set_column(2, 2, COLUMN_WIDTHS[2], writer.format(TEMPLATE_DATE_FORMAT))
    error = {"error_title": _both("workbooks.template.errors.title")[:32]}
    checks = {
        "body_code": {"validate": "list", "source": _range(names["bodies"], len(bodies))},
        "service_code": {"validate": "list", "source": _range(names["services"], len(services))},
        "assessed_on": {
            "validate": "date",
            "criteria": ">=",
            "value": datetime.combine(EARLIEST, datetime.min.time()),
            "error_message": _both("assessments.errors.assessed_on", earliest=EARLIEST),
        },
        "standard": {
            "validate": "integer",
            "criteria": "between",
            "minimum": first,
            "maximum": last,
            "error_message": _both("assessments.errors.standard", first=first, last=last),
        },
        "result": {
            "validate": "list",
            "source": list(RESULTS),
            "error_message": _both("assessments.errors.result"),
        },
    }
    for index, column in enumerate(ASSESSMENT_COLUMNS):
        help_text = _both(f"assessments.columns.{column}", first=first, last=last)
        rule = checks[column] | {"input_title": column, "input_message": help_text[:255]}
        if "error_message" in rule:
            rule |= error | {"error_message": rule["error_message"][:255]}
        sheet.data_validation(1, index, MAX_ROWS - 1, index, rule)

    def headers(section: str, *keys: str) -> list[str]:
        return [_both(f"{section}.{key}") for key in keys]

    listed = "workbooks.template.headers"

    standards_sheet = _both("assessments.sheets.standards").replace(" / ", " - ")
    writer.add(
        Sheet(
            standards_sheet,
            headers(
                "assessments.headers", "standard", "group_en", "group_cy", "name_en", "name_cy"
            ),
            [
                [int(s["standard"]), s["group_en"], s["group_cy"], s["name_en"], s["name_cy"]]
                for s in sorted(reference.standards, key=lambda s: int(s["standard"]))
            ],
        )
    )
    help_sheet = writer.add(
        Sheet(
            names["help"],
            headers(listed, "column", "description_en", "description_cy"),
            [
                [
                    c,
                    text(f"assessments.columns.{c}", "en", first=first, last=last),
                    text(f"assessments.columns.{c}", "cy", first=first, last=last),
                ]
                for c in ASSESSMENT_COLUMNS
            ],
        )
    )
    help_sheet.write_string(len(ASSESSMENT_COLUMNS) + 2, 0, text("assessments.guidance", "en"))
    help_sheet.write_string(len(ASSESSMENT_COLUMNS) + 3, 0, text("assessments.guidance", "cy"))
    writer.add(
        Sheet(
            names["services"],
            headers(listed, "service_code", "service_en", "service_cy", "sector_en", "sector_cy"),
            [
                [
                    s["service_code"],
                    s["name_en"],
                    s["name_cy"],
                    sectors["en"][s["sector"]],
                    sectors["cy"][s["sector"]],
                ]
                for s in services
            ],
        )
    )
    writer.add(
        Sheet(
            names["bodies"],
            headers(listed, "body_code", "body_en", "body_cy", "sector_en", "sector_cy"),
            [
                [
                    b["body_code"],
                    b["name_en"],
                    b["name_cy"],
                    sectors["en"][b["sector"]],
                    sectors["cy"][b["sector"]],
                ]
                for b in bodies
            ],
        )
    )
    return writer.close()
