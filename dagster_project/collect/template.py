"""The blank submission template public bodies fill in: CSV, and XLSX with a data dictionary,
the services catalogue and the register of bodies beside the submission sheet."""

from __future__ import annotations

import csv
import io

from dagster_project.collect.contract import COLUMN_NAMES, COLUMNS
from dagster_project.collect.read import TEMPLATE_SHEET
from dagster_project.reference import Reference
from exports.cells import workbook_bytes


def template_csv() -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(COLUMN_NAMES)
    return out.getvalue().encode("utf-8")


def template_xlsx(reference: Reference) -> bytes:
    """Same reference data, same bytes; text that looks like a formula is neutralised."""
    return workbook_bytes(
        {
            TEMPLATE_SHEET: [list(COLUMN_NAMES)],
            "Data dictionary": [["column", "required", "type", "description", "disgrifiad"]]
            + [
                [c.name, "yes" if c.required else "no", c.kind, c.description, c.description_cy]
                for c in COLUMNS
            ],
            "Services": [["service_code", "sector", "name_en", "name_cy"]]
            + [
                [s["service_code"], s["sector"], s["name_en"], s["name_cy"]]
                for s in reference.services
            ],
            "Bodies": [["body_code", "name_en", "name_cy", "sector"]]
            + [[b["body_code"], b["name_en"], b["name_cy"], b["sector"]] for b in reference.bodies],
        }
    )
