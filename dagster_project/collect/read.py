"""Read a submission's bytes into a table of text cells, the way public bodies really send them:
CSV in UTF-8 (with or without a byte-order mark) or Windows-1252, or an Excel workbook. Values are
read, never evaluated: a workbook's formulas give their saved results, never run."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

MAX_FILE_BYTES = 20 * 1024 * 1024  # a monthly return is kilobytes; this is generous
TEMPLATE_SHEET = "Submission"
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format


class Unreadable(Exception):
    """The file cannot be read as a table at all."""

    def __init__(self, rule: str, value: str, detail: str = "") -> None:
        super().__init__(rule)
        self.rule, self.value, self.detail = rule, value, detail


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
        raise Unreadable("not_a_spreadsheet", "an old-style .xls workbook")
    if b"\x00" in data[:4096]:
        raise Unreadable("not_a_spreadsheet", "binary content")
    return _read_csv(data)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise Unreadable(
                "encoding", f"byte {data[utf8_error.start]:#04x} at offset {utf8_error.start}"
            ) from None


def _read_csv(data: bytes) -> Table:
    text = _decode(data)
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise Unreadable("not_a_spreadsheet", str(error)) from None
    return Table([(number, line) for number, line in enumerate(lines, start=1)])


def cell_text(value: object) -> str:
    """A typed value (a workbook cell, a JSON field) as the text a CSV cell would hold: empty for
    none, yes/no for booleans, 1200 for 1200.0, the month of a date."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        # Spreadsheets turn a typed "2025-04" into a date; its month is what was meant.
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook  # only workbooks need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise Unreadable(
            "not_a_spreadsheet", f"a damaged workbook ({type(error).__name__})"
        ) from None
    except Exception as error:  # openpyxl raises its own types for many kinds of damage
        raise Unreadable(
            "not_a_spreadsheet", f"a damaged workbook ({type(error).__name__})"
        ) from None
    try:
        sheet = (
            workbook[TEMPLATE_SHEET]
            if TEMPLATE_SHEET in workbook.sheetnames
            else workbook.worksheets[0]
        )
        rows = [
            (number, [cell_text(v) for v in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()
    return Table(rows)
