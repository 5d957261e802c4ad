"""Read a submission's bytes into a table of text cells, the way public bodies really send them:
CSV in UTF-8 (with or without a byte-order mark) or Windows-1252, or an Excel workbook. Values are
read, never evaluated: a workbook's formulas give their saved results, never run.

Nothing is read in part. A file is read whole or rejected with a rule of its own:
- CSV: a cell cannot hold a line break. A quote left open would otherwise swallow every
  following row into one cell, unseen (Python's csv module does so without a word); a monthly
  return has no use for line breaks in a cell, so a cell running past the end of its line is
  rejected as `unclosed_quote`, at the row where the quote opened.
- XLSX: every row element of the sheet is read; its `<dimension>` tag, which can understate or
  overstate the real extent, is never consulted.

Cost is bounded by the declared limits below, checked while streaming: reading stops at the first
row, column or cell past a limit, so a hostile file is rejected in seconds and in bounded memory.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice

# Declared limits: the rules' wording in rules.py renders these numbers from here.
MAX_FILE_BYTES = 20 * 1024 * 1024  # a monthly return is kilobytes; this is generous
MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # a workbook's parts once unzipped (a zip bomb is small)
# Each part of a workbook parsed whole (styles, shared strings, the workbook's own XML), unzipped;
# only the sheet is streamed. Excel's own limit of 64,000 cell styles fits well within it.
MAX_WORKBOOK_PART_BYTES = 4 * 1024 * 1024
MAX_ROWS = 10_000  # rows (lines) per file; a return is one row per service: a few dozen
MAX_COLUMNS = 64  # the contract has 14 columns
MAX_CELL_CHARS = 2_000  # notes included
# Text a workbook's cells may hold in all. Shared strings let a small workbook repeat one long
# text in every cell (a 38 KB file gave 280 million characters); a CSV is bounded by its bytes.
MAX_WORKBOOK_TEXT_CHARS = 4_000_000
MAX_PROBLEMS_LISTED = 200  # per file; the rest are counted by rule, never built one by one

TEMPLATE_SHEET = "Submission"
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an OLE compound file: the old binary .xls, or an encrypted .xlsx
# Excel saves a workbook with a password as an OLE file holding the encrypted .xlsx in this stream.
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# Excel's widest row; more cell elements in one row cannot be a real sheet.
XLSX_MAX_CELLS_IN_ROW = 16_384
# A cell's value is a few XML elements (rich text adds a run per change of font).
XLSX_MAX_PARTS_IN_CELL = 1_000


class Unreadable(Exception):
    """The file cannot be read as a table at all, or not within the limits; `row` and `column`
    say where (0 and "" for the whole file)."""

    def __init__(
        self, rule: str, value: str, detail: str = "", row: int = 0, column: str = ""
    ) -> None:
        super().__init__(rule)
        self.rule, self.value, self.detail = rule, value, detail
        self.row, self.column = row, column


@dataclass(frozen=True)
class Table:
    """Text cells with the row number the body sees in its own program (first row = 1)."""

    rows: list[tuple[int, list[str]]]


def read_table(data: bytes) -> Table:
    """Read CSV or XLSX bytes into a table; raise Unreadable with a rule code when impossible."""
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable("file_too_large", f"{len(data):,} bytes", f"{MAX_FILE_BYTES:,} bytes")
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data)
    if data.startswith(OLE_MAGIC):
        if ENCRYPTED_PACKAGE in data:
            raise Unreadable("password_protected", "a workbook protected by a password")
        raise Unreadable("not_a_spreadsheet", "an old-style .xls workbook")
    if b"\x00" in data[:4096]:
        raise Unreadable("not_a_spreadsheet", "binary content")
    return _read_csv(data)


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 1-based column position: 1 -> A, 27 -> AA."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _within_limits(number: int, cells: list[str]) -> list[str]:
    """A row's cells without trailing empty ones, once its row, width and cells are checked."""
    if number > MAX_ROWS:
        raise Unreadable("too_many_rows", f"more than {MAX_ROWS:,} rows", row=number)
    while cells and not cells[-1].strip():
        cells.pop()  # programs pad rows with empty cells; they hold nothing
    if len(cells) > MAX_COLUMNS:
        raise Unreadable(
            "too_many_columns", f"{len(cells)} cells", row=number, column=column_letter(len(cells))
        )
    for position, cell in enumerate(cells, start=1):
        if len(cell) > MAX_CELL_CHARS:
            raise Unreadable(
                "cell_too_long",
                f"{len(cell):,} characters",
                row=number,
                column=column_letter(position),
            )
    return cells


# Two bytes that spell a letter in UTF-8 (â, ê, ô, ŵ, ŷ and the rest of Latin-1 and Latin
# Extended-A) and two unlikely letters in Windows-1252 ("Ã¢", "Åµ"): text with them is UTF-8.
_UTF8_LETTER = re.compile(rb"[\xc3\xc4\xc5][\x80-\xbf]")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        if _UTF8_LETTER.search(data):
            # Mostly UTF-8 with a stray byte: read as Windows-1252 it would garble every Welsh
            # letter without a word, so it is refused at the byte that breaks it.
            raise Unreadable(
                "encoding",
                f"byte {data[utf8_error.start]:#04x} at offset {utf8_error.start} "
                "in a file otherwise written in UTF-8",
            ) from None
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise Unreadable(
                "encoding", f"byte {data[utf8_error.start]:#04x} at offset {utf8_error.start}"
            ) from None


# A line longer than this holds more cells or longer cells than the limits allow.
_MAX_LINE_CHARS = MAX_COLUMNS * (MAX_CELL_CHARS + 3)


def _physical_lines(text: str) -> Iterator[str]:
    """The text's lines (any line ending), refusing one too long to be a row within the limits
    before the csv module builds its cells."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > _MAX_LINE_CHARS:
            if line.count(",") >= MAX_COLUMNS:
                raise Unreadable(
                    "too_many_columns",
                    f"{line.count(',') + 1:,} cells",
                    row=number,
                    column=column_letter(MAX_COLUMNS + 1),
                )
            raise Unreadable("cell_too_long", f"a line of {len(line):,} characters", row=number)
        yield line


def _open_quote(line: str) -> tuple[int, str]:
    """The position (from 1) and text of the cell whose quote is still open at the end of
    `line`, following the csv module's reading of quotes (a quote opens a cell only at its
    start; two quotes inside are one)."""
    position, start, state = 1, 0, "start"
    for index, char in enumerate(line.rstrip("\r\n")):
        if state == "quoted":
            state = "quote in quoted" if char == '"' else "quoted"
        elif char == ",":
            position, start, state = position + 1, index + 1, "start"
        elif state in ("start", "quote in quoted"):
            state = "quoted" if char == '"' else "plain"
    cell = line[start:].rstrip("\r\n")
    return position, cell if len(cell) <= 60 else cell[:59] + "…"


def _unclosed_quote(text: str, row: int) -> Unreadable:
    line = next(islice(io.StringIO(text, newline=""), row - 1, None), "")
    position, cell = _open_quote(line)
    return Unreadable("unclosed_quote", cell, row=row, column=column_letter(position))


def _read_csv(data: bytes) -> Table:
    text = _decode(data)
    reader = csv.reader(_physical_lines(text))
    rows: list[tuple[int, list[str]]] = []
    while True:
        number = reader.line_num + 1  # the line this row starts on
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            # A quote left open reads on to the csv module's own cell limit or the end of data.
            if reader.line_num > number:
                raise _unclosed_quote(text, number) from None
            raise Unreadable("not_a_spreadsheet", str(error), row=number) from None
        if reader.line_num > number:
            raise _unclosed_quote(text, number)
        rows.append((number, _within_limits(number, cells)))
    return Table(rows)


def cell_text(value: object) -> str:
    """A typed value (a workbook cell, a JSON field) as the text a CSV cell would hold: empty for
    none, yes/no for booleans, 1200 for 1200.0, the month of a date, 12.50 for a JSON 12.50."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        # Spreadsheets turn a typed "2025-04" into a date; its month is what was meant.
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):  # a JSON number, exactly as written (sums of money)
        if value.is_finite() and value.adjusted() < 20 and value == value.to_integral_value():
            return str(int(value))  # 1200.0 -> 1200, as for a float; 1E+999999 stays as it is
        return str(value)
    return str(value)


class _BoundedArchive(zipfile.ZipFile):
    """A workbook's zip that opens a part bigger than MAX_WORKBOOK_PART_BYTES only to stream
    it (`streamed`): openpyxl parses every other part whole, in memory."""

    streamed: str | None = None

    def open(self, name, mode="r", *args, **kwargs):
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        if info.filename != self.streamed and info.file_size > MAX_WORKBOOK_PART_BYTES:
            raise Unreadable("workbook_too_large", f"{info.filename}: {info.file_size:,} bytes")
        return super().open(name, mode, *args, **kwargs)


def _damaged(error: Exception) -> Unreadable:
    return Unreadable("not_a_spreadsheet", f"a damaged workbook ({type(error).__name__})")


def _read_xlsx(data: bytes) -> Table:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # zipfile never inflates a part beyond its declared size, so the sum bounds the work.
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _damaged(error) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise Unreadable("workbook_too_large", f"{unpacked:,} bytes in all")
    try:
        rows, characters = [], 0
        for number, values in _sheet_rows(data):
            cells = _within_limits(number, [cell_text(v) for v in values])
            characters += sum(map(len, cells))
            if characters > MAX_WORKBOOK_TEXT_CHARS:
                raise Unreadable(
                    "workbook_too_large",
                    f"more than {MAX_WORKBOOK_TEXT_CHARS:,} characters of text",
                    row=number,
                )
            rows.append((number, cells))
        return Table(rows)
    except Unreadable:
        raise
    except Exception as error:  # openpyxl raises its own types for many kinds of damage
        raise _damaged(error) from None


def _sheet_rows(data: bytes) -> Iterator[tuple[int, list[object]]]:
    """The rows of the Submission sheet (else the first worksheet) that hold a value, streamed,
    each with its number and its cells' values up to the last one given.

    openpyxl (pinned, 3.1.5) reads the workbook's parts and parses each cell, so values are
    exactly those of its own reader (shared strings, dates by number format, booleans); the
    loop over the sheet is ours, because openpyxl's read-only rows stop where the sheet's
    `<dimension>` tag says, and opening a sheet without one parses all of it before the first
    row. Every element is dropped once read, so memory stays flat however long the sheet."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.worksheet._reader import CELL_TAG, ROW_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.archive.close()
    reader.archive = archive = _BoundedArchive(io.BytesIO(data))
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        sheets = [
            (sheet.name, rel.target)
            for sheet, rel in reader.parser.find_sheets()
            if "chartsheet" not in rel.Type
        ]
        archive.streamed = next((p for name, p in sheets if name == TEMPLATE_SHEET), sheets[0][1])
        with archive.open(archive.streamed) as source:
            parser = WorkSheetParser(
                source,
                reader.shared_strings,
                data_only=True,
                epoch=reader.wb.epoch,
                date_formats=reader.wb._date_formats,
                timedelta_formats=reader.wb._timedelta_formats,
            )
            open_elements: list = []
            values: dict[int, object] = {}
            rows_read = cells_in_row = parts_in_cell = 0
            for event, element in iterparse(source, events=("start", "end")):
                if event == "start":
                    if element.tag == ROW_TAG:
                        number = element.get("r")
                        parser.row_counter = int(number) if number else parser.row_counter + 1
                        parser.col_counter, values, cells_in_row = 0, {}, 0
                        rows_read += 1
                        if rows_read > MAX_ROWS:
                            raise Unreadable(
                                "too_many_rows",
                                f"more than {MAX_ROWS:,} rows",
                                row=parser.row_counter,
                            )
                    elif element.tag == CELL_TAG:
                        cells_in_row, parts_in_cell = cells_in_row + 1, 0
                        if cells_in_row > XLSX_MAX_CELLS_IN_ROW:
                            raise Unreadable(
                                "too_many_columns",
                                f"more than {XLSX_MAX_CELLS_IN_ROW:,} cells",
                                row=parser.row_counter,
                            )
                    elif open_elements and open_elements[-1].tag == CELL_TAG or parts_in_cell:
                        parts_in_cell += 1  # a cell's value, formula or rich-text runs
                        if parts_in_cell > XLSX_MAX_PARTS_IN_CELL:
                            raise Unreadable(
                                "cell_too_long",
                                f"more than {XLSX_MAX_PARTS_IN_CELL:,} pieces of text",
                                row=parser.row_counter,
                            )
                    open_elements.append(element)
                    continue
                open_elements.pop()
                if element.tag == CELL_TAG:
                    cell = parser.parse_cell(element)
                    parts_in_cell = 0
                    if cell["value"] is not None:
                        if cell["column"] > MAX_COLUMNS:
                            raise Unreadable(
                                "too_many_columns",
                                f"a value in column {column_letter(cell['column'])}",
                                row=parser.row_counter,
                                column=column_letter(cell["column"]),
                            )
                        values[cell["column"]] = cell["value"]
                elif element.tag == ROW_TAG and values:
                    width = max(values)
                    yield parser.row_counter, [values.get(c) for c in range(1, width + 1)]
                if not parts_in_cell:  # a cell's parts stay until the cell is parsed
                    element.clear()
                    if open_elements:
                        open_elements[-1].remove(element)
    finally:
        archive.close()
