"""How values become cells: stable text for CSV, neutralised text for spreadsheets, and
workbooks (xlsxwriter: fast, written in memory) whose bytes depend only on their content."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

# A spreadsheet treats a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def safe_text(value: str) -> str:
    """Neutralise text a spreadsheet would run as a formula, by a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def format_cell(value: object, decimals: int | None = None, neutralise: bool = False) -> str:
    """Stable text for a CSV cell: empty for missing, fixed decimals for measures. Text is kept
    as it is (open data is data), or neutralised for a CSV meant to be opened in a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.{decimals if decimals is not None else 6}f}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return safe_text(str(value)) if neutralise else str(value)


def format_rows(
    rows: Iterable[dict],
    columns: Sequence[str],
    decimals: dict[str, int],
    neutralise: bool = False,
) -> list[list[str]]:
    return [[format_cell(row[c], decimals.get(c), neutralise) for c in columns] for row in rows]


def write_csv(path: Path, header: Sequence[str], cells: Iterable[Sequence[str]]) -> None:
    """Write already formatted cells: UTF-8, LF line endings, minimal quoting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(cells)


def json_value(value: object, decimals: int | None = None) -> object:
    """A value for JSON: numbers rounded to their published precision, dates as ISO text."""
    if isinstance(value, float):
        return round(value, decimals if decimals is not None else 6)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Cell:
    """A value with a number format of its own, where its column's does not fit (a sheet of
    indicators holds percentages and rates in one column)."""

    value: object
    number_format: str | None = None


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a header row, frozen and filtered, then rows of typed values. `formats`
    gives each column's number format (None: as written)."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    formats: Sequence[str | None] = ()
    widths: Sequence[int | None] = ()


def spreadsheet_value(value: object) -> object:
    """A value for a workbook cell: text, numbers, booleans and dates as they are (a timestamp
    in UTC, which is what a spreadsheet can hold). Text is kept whole: the writer makes every
    text cell a string, and one that starts like a formula gets Excel's quote prefix."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # a spreadsheet has no NaN: no value is shown, never a made-up one
    return value


class WorkbookWriter:
    """An XLSX workbook written by xlsxwriter in memory: every text cell a string (never a
    formula or a link), numbers and dates as numbers with their formats, one format object per
    distinct look. Same sheets, same bytes: the document date is fixed and xlsxwriter stamps
    its zip entries with a fixed date of its own."""

    def __init__(self) -> None:
        import xlsxwriter

        self.out = io.BytesIO()
        self.book = xlsxwriter.Workbook(
            self.out,
            {
                "in_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.book.set_properties({"created": datetime(*FIXED_TIME)})
        self._formats: dict[tuple[str | None, bool, bool], object] = {}

    def format(self, number_format: str | None = None, bold: bool = False, quoted: bool = False):
        key = (number_format, bold, quoted)
        if key not in self._formats:
            properties: dict[str, object] = {"bold": True} if bold else {}
            if number_format:
                properties["num_format"] = number_format
            if quoted:  # Excel's quote prefix: shown as written, kept as text when edited
                properties["quote_prefix"] = True
            self._formats[key] = self.book.add_format(properties) if properties else None
        return self._formats[key]

    def add(self, sheet: Sheet):
        """Write one sheet: header bold, frozen and filtered; returns xlsxwriter's worksheet
        for what only some sheets need (data validation)."""
        worksheet = self.book.add_worksheet(sheet.title[:31])
        for column, name in enumerate(sheet.header):
            self._text(worksheet, 0, column, str(name), bold=True)
        lengths = [len(str(name)) for name in sheet.header]
        widest = len(lengths)
        formats = list(sheet.formats)
        write = self._write
        for row_number, row in enumerate(sheet.rows, start=1):
            for column, raw in enumerate(row):
                number_format = formats[column] if column < len(formats) else None
                if type(raw) is Cell:
                    raw, number_format = raw.value, raw.number_format or number_format
                value = spreadsheet_value(raw)
                if value is None:
                    continue
                write(worksheet, row_number, column, value, number_format)
                if column < widest:
                    shown = len(value) if isinstance(value, str) else 12
                    if shown > lengths[column]:
                        lengths[column] = shown
        for column, length in enumerate(lengths):
            width = sheet.widths[column] if column < len(sheet.widths) else None
            worksheet.set_column(column, column, width or min(60, length + 2))
        if sheet.header:
            worksheet.freeze_panes(1, 0)
            worksheet.autofilter(0, 0, max(1, len(sheet.rows)), len(sheet.header) - 1)
        return worksheet

    # xlsxwriter's undecorated writers (`_write_string` for `write_string`, ...): the public ones
    # only add a check for "A1" notation, which costs a third of the time of writing a cell.
    def _write(self, worksheet, row: int, column: int, value: object, number_format) -> None:
        kind = type(value)
        if kind is str:
            self._text(worksheet, row, column, value)
        elif kind is bool:
            worksheet._write_boolean(row, column, value, self.format())
        elif kind is int or kind is float:
            worksheet._write_number(row, column, value, self.format(number_format))
        elif isinstance(value, datetime | date):
            fallback = "yyyy-mm-dd hh:mm" if isinstance(value, datetime) else "yyyy-mm-dd"
            worksheet._write_datetime(row, column, value, self.format(number_format or fallback))
        elif isinstance(value, int | float):  # a subclass of int or float, as a number
            worksheet._write_number(row, column, value, self.format(number_format))
        else:
            self._text(worksheet, row, column, str(value))

    def _text(self, worksheet, row: int, column: int, text: str, bold: bool = False) -> None:
        """A string cell, never a formula; text that starts like one carries the quote prefix,
        so a reader sees it as written (no added apostrophe) and editing it cannot run it."""
        quoted = text.startswith(FORMULA_PREFIXES)
        worksheet._write_string(row, column, text, self.format(bold=bold, quoted=quoted))

    def close(self) -> bytes:
        self.book.close()
        return self.out.getvalue()


def workbook_bytes(sheets: dict[str, list[list[object]]] | Sequence[Sheet]) -> bytes:
    """An XLSX workbook from sheets (or, as before, {title: [header, *rows]}): header row bold,
    frozen and filtered; the same content always gives the same bytes."""
    if isinstance(sheets, dict):
        sheets = [Sheet(title, rows[0] if rows else [], rows[1:]) for title, rows in sheets.items()]
    writer = WorkbookWriter()
    for sheet in sheets:
        writer.add(sheet)
    return writer.close()
