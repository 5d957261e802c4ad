"""The submission template public bodies fill in: CSV (the header row), and an XLSX workbook with
an empty Submission sheet, an example row on a sheet of its own, column help in English and
Welsh, and drop-downs (data validation) for the columns that take a code or yes/no.

The workbook is made for one body (`body=`: its code is the only choice, its sector's services
are the service list), for one sector (`sector=`: that sector's bodies and services), or for
every body (neither). Per body is the useful one: a body may only report its sector's services
(`service_not_in_sector`), so a drop-down listing exactly those catches the mistake as it is
typed. The example row sits on its own sheet because the validator reads only the Submission
sheet: a template sent back unchanged loads nothing (it is rejected as `no_rows`), never the
example's made-up figures."""

from __future__ import annotations

import csv
import io

from dagster_project.catalogue import text
from dagster_project.collect.contract import COLUMN_NAMES, COLUMNS, Column
from dagster_project.collect.read import MAX_CELL_CHARS, MAX_ROWS, TEMPLATE_SHEET
from dagster_project.reference import Reference
from exports.cells import Sheet, WorkbookWriter

# Rows of the Submission sheet that carry the drop-downs and checks: as many as may be sent.
VALIDATED_ROWS = MAX_ROWS - 1
# Excel's limits on a data validation's input message and error message.
MAX_TITLE_CHARS, MAX_MESSAGE_CHARS = 32, 255
PERIOD_FORMAT = "@"  # text, so that a typed 2026-01 stays the month it says
COUNT_FORMAT = "#,##0"
MONEY_FORMAT = "#,##0.00"
FLAG_CHOICES = ["yes", "no"]  # the contract's words; the validator also reads y/n, true/false


def both(key: str, **values: object) -> str:
    """A catalogue string as "English / Cymraeg": the template serves both languages at once."""
    return f"{text(key, 'en', **values)} / {text(key, 'cy', **values)}"


def template_csv() -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(COLUMN_NAMES)
    return out.getvalue().encode("utf-8")


def template_sheet_names() -> dict[str, str]:
    """The workbook's sheets by role: the Submission sheet (the name the reader looks for) and
    the others named in both languages."""
    names = {"submission": TEMPLATE_SHEET}
    for role in ("example", "help", "services", "bodies"):
        names[role] = (
            f"{text(f'workbooks.template.sheets.{role}', 'en')} - "
            f"{text(f'workbooks.template.sheets.{role}', 'cy')}"
        )
    return names


def template_scope(
    reference: Reference, body: str | None = None, sector: str | None = None
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The bodies and the services a template offers: one body and its sector's services, one
    sector's bodies and services, or all of them. An unknown code is a ValueError."""
    bodies = reference.bodies
    if body is not None:
        bodies = [b for b in reference.bodies if b["body_code"] == body]
        if not bodies:
            raise ValueError(f"{body!r} is not a body code in the register")
        sector = bodies[0]["sector"]
    elif sector is not None:
        bodies = [b for b in reference.bodies if b["sector"] == sector]
        if not bodies:
            raise ValueError(f"{sector!r} is not a sector of the register")
    services = [s for s in reference.services if sector is None or s["sector"] == sector]
    return (
        sorted(bodies, key=lambda b: b["body_code"]),
        sorted(services, key=lambda s: s["service_code"]),
    )


def example_row(reference: Reference, body: dict[str, str], services: list[dict]) -> dict:
    """A filled-in row the validator accepts: the body's first expected service (else its
    sector's first) in its onboarding month, channels adding up to the total."""
    expected = reference.services_of(body["body_code"])
    offered = [s["service_code"] for s in services]
    service = next((s for s in expected if s in offered), offered[0] if offered else "")
    return {
        "body_code": body["body_code"],
        "period": body["onboarded"],
        "service_code": service,
        "transactions_total": 1200,
        "transactions_online": 900,
        "transactions_phone": 200,
        "transactions_face_to_face": 50,
        "transactions_paper": 50,
        "transactions_other": 0,
        "available_online": "yes",
        "digital_by_default": "no",
        "letters_posted": 300,
        "digital_notifications": 850,
        "notes": both("workbooks.template.example_notes_cell"),
        # The optional measures of contract v2, consistent with the figures above.
        "online_started": 1000,
        "satisfaction_responses": 80,
        "satisfied_responses": 64,
        "cost_total": 5400.5,
        "transactions_online_welsh": 45,
    }


def _kind(column: Column, language: str) -> str:
    """The kind of a column in words."""
    return text(f"workbooks.template.kinds.{column.kind}", language)


def _help(column: Column) -> str:
    """The input message shown when a cell of the column is selected: what goes in, in both
    languages."""
    required = "required_column" if column.required else "optional_column"
    message = (
        f"{column.describe('en')} ({text(f'workbooks.template.{required}', 'en')}). "
        f"{column.describe('cy')} ({text(f'workbooks.template.{required}', 'cy')})."
    )
    return message[:MAX_MESSAGE_CHARS]


def _range(sheet: str, rows: int) -> str:
    """A reference to the codes in column A of a sheet of this workbook, below its header."""
    return f"='{sheet}'!$A$2:$A${rows + 1}"


def _validation(column: Column, names: dict[str, str], bodies: int, services: int) -> dict:
    """The data validation of a Submission column: a drop-down, a number check, or only help."""
    errors = "workbooks.template.errors"
    if column.name == "body_code":
        rule = {"validate": "list", "source": _range(names["bodies"], bodies)}
        message = both(f"{errors}.body_code")
    elif column.name == "service_code":
        rule = {"validate": "list", "source": _range(names["services"], services)}
        message = both(f"{errors}.service_code")
    elif column.kind == "flag":
        rule = {"validate": "list", "source": FLAG_CHOICES}
        message = both(f"{errors}.flag")
    elif column.kind == "count":
        rule = {"validate": "integer", "criteria": ">=", "value": 0}
        message = both(f"{errors}.count")
    elif column.kind == "money":
        rule = {"validate": "decimal", "criteria": ">=", "value": 0}
        message = both(f"{errors}.money")
    elif column.name == "notes":
        rule = {"validate": "length", "criteria": "<=", "value": MAX_CELL_CHARS}
        message = both(f"{errors}.notes", limit=f"{MAX_CELL_CHARS:,}")
    else:
        rule, message = {"validate": "any"}, ""
    rule |= {"input_title": column.name[:MAX_TITLE_CHARS], "input_message": _help(column)}
    if message:
        rule |= {
            "error_title": both(f"{errors}.title")[:MAX_TITLE_CHARS],
            "error_message": message[:MAX_MESSAGE_CHARS],
        }
    return rule


def template_xlsx(
    reference: Reference, body: str | None = None, sector: str | None = None
) -> bytes:
    """The template for one body, one sector or every body (see the module's docstring). Same
    reference data, same bytes; text that looks like a formula is neutralised."""
    bodies, services = template_scope(reference, body, sector)
    names = template_sheet_names()
    sectors = {lang: reference.sector_names(lang) for lang in ("en", "cy")}
    example = example_row(reference, bodies[0], services) if bodies else {}
    expected = set(reference.services_of(body)) if body is not None else None

    writer = WorkbookWriter()
    widths = [max(14, len(c) + 2) for c in COLUMN_NAMES]
    submission = writer.add(Sheet(names["submission"], COLUMN_NAMES, [], widths=widths))
    for index, column in enumerate(COLUMNS):
        number_format = {
            "period": PERIOD_FORMAT,
            "count": COUNT_FORMAT,
            "money": MONEY_FORMAT,
        }.get(column.kind)
        if number_format:
            submission.set_column(index, index, widths[index], writer.format(number_format))
        submission.data_validation(
            1, index, VALIDATED_ROWS, index, _validation(column, names, len(bodies), len(services))
        )

    example_sheet = writer.add(
        Sheet(
            names["example"], COLUMN_NAMES, [[example.get(c) for c in COLUMN_NAMES]], widths=widths
        )
    )
    example_sheet.write_string(3, 0, both("workbooks.template.example_note"))

    def headers(*keys: str) -> list[str]:
        return [both(f"workbooks.template.headers.{key}") for key in keys]

    writer.add(
        Sheet(
            names["help"],
            headers(
                "column",
                "required",
                "type_en",
                "type_cy",
                "description_en",
                "description_cy",
                "example",
            ),
            [
                [
                    c.name,
                    "yes" if c.required else "no",
                    _kind(c, "en"),
                    _kind(c, "cy"),
                    c.describe("en"),
                    c.describe("cy"),
                    example.get(c.name),
                ]
                for c in COLUMNS
            ],
        )
    )
    service_header = headers("service_code", "service_en", "service_cy", "sector_en", "sector_cy")
    if expected is not None:
        service_header += headers("expected")
    writer.add(
        Sheet(
            names["services"],
            service_header,
            [
                [
                    s["service_code"],
                    s["name_en"],
                    s["name_cy"],
                    sectors["en"][s["sector"]],
                    sectors["cy"][s["sector"]],
                    *(
                        []
                        if expected is None
                        else [FLAG_CHOICES[s["service_code"] not in expected]]
                    ),
                ]
                for s in services
            ],
        )
    )
    writer.add(
        Sheet(
            names["bodies"],
            headers("body_code", "body_en", "body_cy", "sector_en", "sector_cy"),
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
