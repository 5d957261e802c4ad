"""The blank submission template public bodies fill in: CSV, and XLSX with a data dictionary,
the services catalogue and the register of bodies beside the submission sheet."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from dagster_project.collect.contract import COLUMN_NAMES, COLUMNS
from dagster_project.collect.read import TEMPLATE_SHEET
from dagster_project.reference import Reference

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Fixed document dates: the same reference data always gives the same bytes.
FIXED_DATE = datetime(2026, 1, 1)


def _text(value: str) -> str:
    """Neutralise text a spreadsheet would take for a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def template_csv() -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(COLUMN_NAMES)
    return out.getvalue().encode("utf-8")


def template_xlsx(reference: Reference) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheets = {
        TEMPLATE_SHEET: [list(COLUMN_NAMES)],
        "Data dictionary": [["column", "required", "type", "description", "disgrifiad"]]
        + [
            [c.name, "yes" if c.required else "no", c.kind, c.description, c.description_cy]
            for c in COLUMNS
        ],
        "Services": [["service_code", "sector", "name_en", "name_cy"]]
        + [
            [s["service_code"], s["sector"], s["name_en"], s["name_cy"]] for s in reference.services
        ],
        "Bodies": [["body_code", "name_en", "name_cy", "sector"]]
        + [[b["body_code"], b["name_en"], b["name_cy"], b["sector"]] for b in reference.bodies],
    }
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append([_text(str(v)) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(60, width + 2)
    workbook.properties.created = workbook.properties.modified = FIXED_DATE
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
