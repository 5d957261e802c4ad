"""How values become cells: stable text for CSV, neutralised text for spreadsheets, and
workbooks (xlsxwriter: fast, written in memory) whose bytes depend only on their content."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
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
    if isinstance(value, Decimal):  # a sum of pounds (decimal(18,2)) published as a measure
        value = float(value)
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
    if isinstance(value, Decimal):
        value = float(value)
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


def _written_cells(row: Sequence[object], formats: list) -> Iterator[tuple[int, object, object]]:
    """A row's cells as a workbook holds them: (column, value, number format), empty cells left
    out; a Cell's own number format before its column's."""
    for column, raw in enumerate(row):
        number_format = formats[column] if column < len(formats) else None
        if type(raw) is Cell:
            raw, number_format = raw.value, raw.number_format or number_format
        value = spreadsheet_value(raw)
        if value is not None:
            yield column, value, number_format


class WorkbookWriter:
    """An XLSX workbook written by xlsxwriter in memory: every text cell a string (never a
    formula or a link), numbers and dates as numbers with their formats, one format object per
    distinct look. Same sheets, same bytes: the document date is fixed and xlsxwriter stamps
    its zip entries with a fixed date of its own."""

    def __init__(self, fast: bool = True) -> None:
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
        # False: xlsxwriter's own writer for every cell, the reference the fast path matches.
        self.fast = fast

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
        fast = self.fast and _fits(worksheet, sheet)
        if fast:
            lengths = _FastCells(self, worksheet).add(sheet)
        else:
            lengths = self._add_cells(worksheet, sheet)
        for column, length in enumerate(lengths):
            width = sheet.widths[column] if column < len(sheet.widths) else None
            worksheet.set_column(column, column, width or min(60, length + 2))
        if sheet.header:
            worksheet.freeze_panes(1, 0)
            worksheet.autofilter(0, 0, max(1, len(sheet.rows)), len(sheet.header) - 1)
        return worksheet

    def _add_cells(self, worksheet, sheet: Sheet) -> list[int]:
        """The cells through xlsxwriter's writers, one call a cell; each column's widest text."""
        for column, name in enumerate(sheet.header):
            self._text(worksheet, 0, column, str(name), bold=True)
        lengths = [len(str(name)) for name in sheet.header]
        widest = len(lengths)
        formats = list(sheet.formats)
        write = self._write
        for row_number, row in enumerate(sheet.rows, start=1):
            for column, value, number_format in _written_cells(row, formats):
                write(worksheet, row_number, column, value, number_format)
                if column < widest:
                    shown = len(value) if isinstance(value, str) else 12
                    if shown > lengths[column]:
                        lengths[column] = shown
        return lengths

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


def _fits(worksheet, sheet: Sheet) -> bool:
    """Whether every cell is inside the sheet's bounds (beyond them xlsxwriter drops a cell)."""
    widest = max([len(sheet.header), *(len(row) for row in sheet.rows)])
    return len(sheet.rows) < worksheet.xls_rowmax and widest <= worksheet.xls_colmax


class _FastCells:
    """The cells of one sheet stored straight into xlsxwriter's table, and its `<sheetData>`
    written in one pass: the bytes xlsxwriter's own writers give (for the cells this writer
    makes: strings, numbers, dates, booleans), in a third of the time. What xlsxwriter checks
    per cell is checked once a sheet (bounds) or per cell only where it can apply (a string
    too long for a cell goes through xlsxwriter's writer, which cuts it)."""

    def __init__(self, writer: WorkbookWriter, worksheet) -> None:
        self.writer, self.worksheet = writer, worksheet
        worksheet._write_rows = self.write_rows  # read when the workbook is closed

    def add(self, sheet: Sheet) -> list[int]:
        from xlsxwriter.worksheet import (
            CellBooleanTuple,
            CellDatetimeTuple,
            CellNumberTuple,
            CellStringTuple,
        )

        new = tuple.__new__  # a namedtuple's own __new__ is a Python call a cell
        writer, worksheet = self.writer, self.worksheet
        table = worksheet.table
        shared = worksheet.str_table._get_shared_string_index
        longest = worksheet.xls_strmax // 2
        formats = writer._formats
        look = writer.format
        epoch = (worksheet.date_1904, worksheet.remove_timezone)

        def text(row: int, column: int, value: str, bold: bool = False) -> None:
            quoted = value.startswith(FORMULA_PREFIXES)
            key = (None, bold, quoted)
            fmt = formats[key] if key in formats else look(bold=bold, quoted=quoted)
            if len(value) > longest:
                worksheet._write_string(row, column, value, fmt)
            else:
                table[row][column] = new(CellStringTuple, (shared(value), fmt))

        for column, name in enumerate(sheet.header):
            text(0, column, str(name), bold=True)
        lengths = [len(str(name)) for name in sheet.header]
        widest = len(lengths)
        column_formats = list(sheet.formats)
        last_row = last_column = first_column = None
        for row_number, row in enumerate(sheet.rows, start=1):
            cells = table[row_number]
            for column, value, number_format in _written_cells(row, column_formats):
                kind = type(value)
                if kind is str:
                    text(row_number, column, value)
                    shown = len(value)
                else:
                    shown = 12
                    if kind is bool:
                        cells[column] = new(CellBooleanTuple, (1 if value else 0, look()))
                    elif kind is int or kind is float:
                        key = (number_format, False, False)
                        fmt = formats[key] if key in formats else look(number_format)
                        cells[column] = new(CellNumberTuple, (value, fmt))
                    elif isinstance(value, datetime | date):
                        timed = isinstance(value, datetime)
                        fallback = "yyyy-mm-dd hh:mm" if timed else "yyyy-mm-dd"
                        fmt = look(number_format or fallback)
                        serial = _serial(*epoch, timed, value)
                        cells[column] = new(CellDatetimeTuple, (serial, fmt))
                    elif isinstance(value, int | float):
                        writer._write(worksheet, row_number, column, value, number_format)
                    else:
                        text(row_number, column, str(value))
                if column < widest and shown > lengths[column]:
                    lengths[column] = shown
                last_row = row_number
                if first_column is None or column < first_column:
                    first_column = column
                if last_column is None or column > last_column:
                    last_column = column
            if not cells:
                del table[row_number]  # xlsxwriter's writers leave no row they did not write
        # The sheet's extent, as xlsxwriter's writers would have recorded it cell by cell.
        check = worksheet._check_dimensions
        if sheet.header:
            check(0, 0)
            check(0, len(sheet.header) - 1)
        if last_row is not None:
            check(last_row, last_column)
            check(1, first_column)
            worksheet.dim_rowmin = 0 if sheet.header else _first_row(table)
        return lengths

    def write_rows(self) -> None:
        """xlsxwriter's `_write_rows` for a sheet of plain cells (no row formats, no comments)."""
        from xlsxwriter.utility import xl_rowcol_to_cell_fast
        from xlsxwriter.worksheet import (
            CellBooleanTuple,
            CellDatetimeTuple,
            CellNumberTuple,
            CellStringTuple,
        )

        worksheet = self.worksheet
        if worksheet.row_info or worksheet.comments:
            type(worksheet)._write_rows(worksheet)
            return
        table = worksheet.table
        col_info = worksheet.col_info
        rows = sorted(number for number, cells in table.items() if cells)
        spans: dict[int, str] = {}
        for block, numbers in groupby(rows, key=lambda number: number // 16):
            columns = [c for number in numbers for c in (min(table[number]), max(table[number]))]
            spans[block] = f"{min(columns) + 1}:{max(columns) + 1}"
        styles: dict[int, str] = {}  # column: its cells' style when they have no format
        for column, info in col_info.items():
            if info.column_format is not None:
                styles[column] = f' s="{info.column_format._get_xf_index()}"'
        own: dict[object, str] = {}  # format: its style attribute
        out = []
        append = out.append
        for number in rows:
            append(f'<row r="{number + 1}" spans="{spans[number // 16]}">')
            label = str(number + 1)
            cells = table[number]
            for column in sorted(cells):
                cell = cells[column]
                reference = xl_rowcol_to_cell_fast(0, column)[:-1] + label
                fmt = cell[-1]
                if fmt:
                    if fmt not in own:
                        own[fmt] = f' s="{fmt._get_xf_index()}"'
                    style = own[fmt]
                else:
                    style = styles.get(column, "")
                kind = type(cell)
                if kind is CellStringTuple:
                    append(f'<c r="{reference}"{style} t="s"><v>{cell[0]}</v></c>')
                elif kind is CellNumberTuple or kind is CellDatetimeTuple:
                    append(f'<c r="{reference}"{style}><v>{cell[0]:.16G}</v></c>')
                elif kind is CellBooleanTuple:
                    append(f'<c r="{reference}"{style} t="b"><v>{cell[0]}</v></c>')
                else:
                    worksheet.fh.write("".join(out))
                    out.clear()
                    worksheet._write_cell(number, column, cell)
            append("</row>")
        worksheet.fh.write("".join(out))


@lru_cache(maxsize=4096)  # the same months in every workbook, each timestamp in two
def _serial(date_1904: bool, remove_timezone: bool, timed: bool, value: date) -> float:
    """A date's Excel serial number, as xlsxwriter's date writer computes it."""
    from xlsxwriter.utility import _datetime_to_excel_datetime

    return _datetime_to_excel_datetime(value, date_1904, remove_timezone)


def _first_row(table) -> int:
    return min(number for number, cells in table.items() if cells)


def workbook_bytes(
    sheets: dict[str, list[list[object]]] | Sequence[Sheet], fast: bool = True
) -> bytes:
    """An XLSX workbook from sheets (or, as before, {title: [header, *rows]}): header row bold,
    frozen and filtered; the same content always gives the same bytes, `fast` or not."""
    if isinstance(sheets, dict):
        sheets = [Sheet(title, rows[0] if rows else [], rows[1:]) for title, rows in sheets.items()]
    writer = WorkbookWriter(fast)
    for sheet in sheets:
        writer.add(sheet)
    return writer.close()
