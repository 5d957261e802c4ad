"""How values become cells: stable text for CSV, neutralised text for spreadsheets, and
workbooks whose bytes depend only on their content."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
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


def spreadsheet_value(value: object) -> object:
    """A value for a workbook cell: text neutralised, numbers and booleans as they are."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def workbook_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """An XLSX workbook, header row bold, with fixed document and zip-entry dates so the same
    content always gives the same bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title[:31])
        for row in rows:
            sheet.append([spreadsheet_value(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(60, width + 2)
    workbook.properties.created = workbook.properties.modified = datetime(*FIXED_TIME)
    out = io.BytesIO()
    workbook.save(out)
    return _fixed_zip_times(out.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time as "modified": pin it to the creation date.
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", content
                )
            target.writestr(fixed, content)
    return out.getvalue()
