"""The spreadsheets a body opens: its extract workbook, in English and in Welsh, and the
submission template it fills in. Read back with openpyxl, as a spreadsheet program would: frozen
header, filters, number formats, dates as dates, words in the workbook's language, drop-downs."""

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries

from dagster_project.collect.contract import COLUMN_NAMES, COLUMNS
from dagster_project.collect.template import template_xlsx
from dagster_project.collect.validate import parse_submission, validate_files
from dagster_project.reference import load_reference
from exports.cells import Cell, Sheet, workbook_bytes
from tests.conftest import SWANSEA, TAX

SEEDS = Path(__file__).resolve().parents[1] / "dbt" / "seeds"
SERVICE_HEADERS = {
    "en": [
        "Month",
        "Service",
        "Service code",
        "Transactions",
        "Completed online",
        "Online take-up",
        "Available online",
        "Digital by default",
        "Letters posted",
        "Digital messages sent",
        "Revised",
    ],
    "cy": [
        "Mis",
        "Gwasanaeth",
        "Cod gwasanaeth",
        "Trafodion",
        "Wedi'u cwblhau ar-lein",
        "Defnydd ar-lein",
        "Ar gael ar-lein",
        "Digidol yn ddiofyn",
        "Llythyrau a bostiwyd",
        "Negeseuon digidol a anfonwyd",
        "Diwygiedig",
    ],
}
SHEETS = {
    "en": ["Summary", "Indicators", "Services", "Trend", "Returns", "Service standard"],
    "cy": ["Crynodeb", "Dangosyddion", "Gwasanaethau", "Tuedd", "Ffurflenni", "Safon gwasanaeth"],
}
YES = {"en": "yes", "cy": "ie"}


def seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def extract_workbook(pipeline_run, language: str):
    return load_workbook(pipeline_run.paths.extracts / SWANSEA / f"{SWANSEA}.{language}.xlsx")


@pytest.mark.parametrize("language", ["en", "cy"])
def test_every_extract_sheet_has_a_frozen_header_and_filters(pipeline_run, language):
    workbook = extract_workbook(pipeline_run, language)
    assert workbook.sheetnames == SHEETS[language]
    for sheet in workbook:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref is not None, sheet.title
        assert sheet.auto_filter.ref.startswith("A1:"), sheet.title
    summary, indicators, services, trend, _, standards = workbook.worksheets
    # The dictionary publishes n indicators (score and reported): 18 summary items in 2
    # columns; n indicators x 17 columns; 12 months x 13 services x 11 columns; 12 months x
    # (month, n indicators, status); 13 services x (8 columns + the 12 standards).
    n = len(load_reference().published_indicators())
    assert summary.auto_filter.ref == "A1:B19"
    assert indicators.auto_filter.ref == f"A1:Q{1 + n}"
    assert services.auto_filter.ref == "A1:K157"
    assert trend.auto_filter.ref == f"A1:{get_column_letter(n + 2)}13"
    assert standards.auto_filter.ref == "A1:T14"


@pytest.mark.parametrize("language", ["en", "cy"])
def test_extract_headers_and_words_are_in_the_workbook_language(pipeline_run, language):
    services = extract_workbook(pipeline_run, language).worksheets[2]
    rows = list(services.iter_rows(values_only=True))
    assert list(rows[0]) == SERVICE_HEADERS[language]
    tax = next(r for r in rows[1:] if r[2] == TAX and r[0] == datetime(2026, 2, 1))
    assert tax[1] == {"en": "Pay your council tax", "cy": "Talu'r dreth gyngor"}[language]
    assert (tax[6], tax[10]) == (YES[language], YES[language])  # online; revised in February


@pytest.mark.parametrize("language", ["en", "cy"])
def test_extract_numbers_have_formats_and_dates_are_dates(pipeline_run, language):
    summary, indicators, services, trend, returns, _ = extract_workbook(pipeline_run, language)
    # February's council tax row: 100 transactions, 90 online, take-up 0.9 as a percentage.
    row = next(
        r for r in services.iter_rows(min_row=2) if r[2].value == TAX and r[0].value.month == 2
    )
    assert (row[0].value, row[0].is_date, row[0].number_format) == (
        datetime(2026, 2, 1),
        True,
        "yyyy-mm",
    )
    assert [(c.value, c.number_format) for c in row[3:6]] == [
        (100, "#,##0"),
        (90, "#,##0"),
        (0.9, "0.0%"),
    ]
    # Each indicator at its dictionary precision and look: Swansea's take-up
    # (11 x 13 x 40 + 13 x 90) / (12 x 13 x 100) = 0.4417 as 0.0%; letters 200.0 per 1,000
    # with the dictionary's 1 decimal; the target month a date (December of the target year).
    by_code = {r[-1].value: r for r in indicators.iter_rows(min_row=2)}
    take_up, letters = by_code["online_take_up"], by_code["letters_per_1000"]
    assert (take_up[1].value, take_up[1].number_format) == (0.4417, "0.0%")
    assert (letters[1].value, letters[1].number_format) == (200.0, "#,##0.0")
    assert (take_up[11].value, take_up[11].number_format) == (datetime(2030, 12, 1), "yyyy-mm")
    assert by_code["online_availability"][11].value == datetime(2028, 12, 1)
    assert [c.number_format for c in next(trend.iter_rows(min_row=2, max_row=2))][:6] == [
        "yyyy-mm",
        "0.0%",
        "0.0%",
        "0.0%",
        "#,##0.0",
        "0.0%",
    ]
    summary_values = {r[0].value: r[1] for r in summary.iter_rows(min_row=2)}
    score = summary_values[
        {"en": "Digital Progress Score (0–100)", "cy": "Sgôr Cynnydd Digidol (0–100)"}[language]
    ]
    assert (score.value, score.number_format) == (48.1, "0.0")
    # Every return is due by the 15th of the month after its month, a real date.
    late = list(returns.iter_rows(min_row=2))
    assert late
    for month, due, _, received, *_ in late:
        period = month.value
        following = date(period.year + period.month // 12, period.month % 12 + 1, 15)
        assert (due.value.date(), due.number_format) == (following, "yyyy-mm-dd")
        assert received.is_date and received.number_format == "yyyy-mm-dd hh:mm"


def test_every_demo_body_has_the_same_workbook_in_english_and_in_welsh(demo_run):
    """A property over every body of the demo run: the two workbooks have the same sheets, rows
    and columns, each sheet's header frozen and filtered, in the workbook's own language."""
    bodies = sorted(p.name for p in demo_run.extracts.iterdir() if p.is_dir())
    assert len(bodies) >= 40
    for code in bodies:
        books = {
            language: load_workbook(demo_run.extracts / code / f"{code}.{language}.xlsx")
            for language in ("en", "cy")
        }
        for language, book in books.items():
            assert book.sheetnames == SHEETS[language], code
            for sheet in book:
                assert sheet.freeze_panes == "A2", (code, sheet.title)
                assert sheet.auto_filter.ref.startswith("A1:"), (code, sheet.title)
        for english, welsh in zip(books["en"], books["cy"], strict=True):
            assert (english.max_row, english.max_column) == (welsh.max_row, welsh.max_column)
            assert english["A1"].value != welsh["A1"].value  # headers in each language
        services = books["cy"]["Gwasanaethau"]
        assert [c.value for c in services[1]] == SERVICE_HEADERS["cy"], code


def test_csv_for_programs_keeps_stable_snake_case_columns(pipeline_run):
    """One CSV for both languages: its column names never change with the reader's language."""
    path = pipeline_run.paths.extracts / SWANSEA / f"{SWANSEA}_services.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header == (
        "period,service_code,service_name_en,service_name_cy,transactions_total,"
        "transactions_online,online_take_up,available_online,digital_by_default,"
        "letters_posted,digital_notifications,online_started,satisfaction_responses,"
        "satisfied_responses,cost_total,transactions_online_welsh,revised"
    )


def test_workbook_cells_never_become_formulas_and_bytes_are_stable():
    sheet = Sheet(
        "S",
        ["text", "number", "month"],
        [["=1+1", -3, Cell(date(2026, 2, 1), "yyyy-mm")], ["@SUM(A1)", 0.5, None]],
        ["@", "0.0%", None],
    )
    data = workbook_bytes([sheet])
    assert workbook_bytes([sheet]) == data
    cells = load_workbook(io.BytesIO(data))["S"]
    # Text as written, a string cell, with Excel's quote prefix: no apostrophe shown, never run.
    assert (cells["A2"].value, cells["A2"].data_type, cells["A2"].quotePrefix) == (
        "=1+1",
        "s",
        True,
    )
    assert (cells["A3"].value, cells["A3"].data_type, cells["A3"].quotePrefix) == (
        "@SUM(A1)",
        "s",
        True,
    )
    assert not cells["A1"].quotePrefix  # "text": nothing to protect
    assert (cells["B2"].value, cells["B2"].data_type) == (-3, "n")
    assert (cells["B3"].value, cells["B3"].number_format) == (0.5, "0.0%")
    assert (cells["C2"].value, cells["C2"].number_format) == (datetime(2026, 2, 1), "yyyy-mm")


# The template.


def validations(sheet) -> dict[str, object]:
    """Each validated column's letter -> its data validation."""
    return {
        str(v.sqref).split(":")[0].rstrip("0123456789"): v
        for v in sheet.data_validations.dataValidation
    }


def column_format(sheet, letter: str) -> str:
    """The number format a column gives the cells typed into it (a spreadsheet may describe
    neighbouring columns of one format as one range)."""
    index = column_index_from_string(letter)
    found = [d for d in sheet.column_dimensions.values() if d.min <= index <= d.max]
    return found[0].number_format


def listed(workbook, formula: str) -> list[str]:
    """The values a drop-down offers: a literal list or a range of another sheet."""
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet, cells = formula.lstrip("=").rsplit("!", 1)
    first_column, first_row, _, last_row = range_boundaries(cells.replace("$", ""))
    values = workbook[sheet.strip("'")].iter_rows(
        min_row=first_row,
        max_row=last_row,
        min_col=first_column,
        max_col=first_column,
        values_only=True,
    )
    return [row[0] for row in values]


def test_template_drop_downs_offer_exactly_the_body_and_its_sector_services():
    """For every registered body: the service drop-down lists its sector's service codes,
    computed here from the seed files themselves; the body drop-down only the body."""
    sector_of = {b["body_code"]: b["sector"] for b in seed("bodies.csv")}
    services_by_sector: dict[str, set[str]] = {}
    for service in seed("services.csv"):
        services_by_sector.setdefault(service["sector"], set()).add(service["service_code"])
    reference = load_reference()
    assert len(sector_of) >= 40
    for body, sector in sector_of.items():
        workbook = load_workbook(io.BytesIO(template_xlsx(reference, body=body)))
        checks = validations(workbook["Submission"])
        offered = listed(workbook, checks["C"].formula1)
        assert sorted(offered) == sorted(services_by_sector[sector]), body
        assert len(offered) == len(set(offered)), body
        assert listed(workbook, checks["A"].formula1) == [body]
        # Every service the body is expected to report is offered.
        expected = {s["service_code"] for s in seed("body_services.csv") if s["body_code"] == body}
        assert expected <= set(offered), body


def test_template_yes_no_drop_downs_counts_and_text_months():
    workbook = load_workbook(io.BytesIO(template_xlsx(load_reference(), body=SWANSEA)))
    sheet = workbook["Submission"]
    checks = validations(sheet)
    # Columns J and K are available_online and digital_by_default; D, E, L, M the counts.
    assert COLUMN_NAMES[9:11] == ("available_online", "digital_by_default")
    assert listed(workbook, checks["J"].formula1) == ["yes", "no"]
    assert listed(workbook, checks["K"].formula1) == ["yes", "no"]
    for letter in "DEFGHILM":
        assert (checks[letter].type, checks[letter].operator, checks[letter].formula1) == (
            "whole",
            "greaterThanOrEqual",
            "0",
        )
        assert column_format(sheet, letter) == "#,##0"
    assert str(checks["C"].sqref) == "C2:C10000"  # as many rows as a file may have
    assert column_format(sheet, "B") == "@"  # 2026-01 stays text
    for name in workbook.sheetnames:
        assert workbook[name].freeze_panes == "A2", name


def test_template_column_help_is_in_english_and_welsh():
    workbook = load_workbook(io.BytesIO(template_xlsx(load_reference(), body=SWANSEA)))
    checks = validations(workbook["Submission"])
    letters = [get_column_letter(n) for n in range(1, len(COLUMNS) + 1)]
    for letter, column in zip(letters, COLUMNS, strict=True):
        prompt = checks[letter].prompt
        assert column.describe("en") in prompt and column.describe("cy") in prompt, column.name
        assert len(prompt) <= 255
    help_rows = list(workbook["Help - Cymorth"].iter_rows(values_only=True))
    assert help_rows[0][:3] == (
        "Column / Colofn",
        "Required / Gofynnol",
        "Type in English / Math yn Saesneg",
    )
    assert [r[0] for r in help_rows[1:]] == list(COLUMN_NAMES)
    assert help_rows[1][4:6] == (COLUMNS[0].describe("en"), COLUMNS[0].describe("cy"))


def test_template_sent_back_unchanged_loads_nothing_and_its_example_is_valid(tmp_path):
    reference = load_reference()
    data = template_xlsx(reference, body=SWANSEA)
    unchanged = parse_submission("template.xlsx", data, sender=SWANSEA)
    assert unchanged.rows == []
    assert [p.rule for p in unchanged.problems] == ["no_rows"]
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == [
        "Submission",
        "Example - Enghraifft",
        "Help - Cymorth",
        "Services - Gwasanaethau",
        "Bodies - Cyrff",
    ]
    example = list(workbook["Example - Enghraifft"].iter_rows(values_only=True))
    assert example[0] == COLUMN_NAMES
    assert "Submission" in example[3][0]  # the note says where the return goes
    # The example row, copied into the Submission sheet, is a return the validator accepts.
    workbook["Submission"].append(list(example[1]))
    out = io.BytesIO()
    workbook.save(out)
    filled = parse_submission("filled.xlsx", out.getvalue(), sender=SWANSEA)
    assert validate_files([filled], reference, date(2026, 11, 1)) == {"filled.xlsx": []}
    assert [(r["body_code"], r["service_code"], r["transactions_total"]) for r in filled.rows] == [
        (SWANSEA, "la_blue_badge_application", "1200")
    ]


def test_template_for_a_sector_or_every_body_and_the_same_bytes_each_time():
    reference = load_reference()
    services = seed("services.csv")
    everything = load_workbook(io.BytesIO(template_xlsx(reference)))
    offered = listed(everything, validations(everything["Submission"])["C"].formula1)
    assert sorted(offered) == sorted(s["service_code"] for s in services)
    fire = load_workbook(io.BytesIO(template_xlsx(reference, sector="fire_rescue")))
    offered = listed(fire, validations(fire["Submission"])["C"].formula1)
    assert sorted(offered) == sorted(
        s["service_code"] for s in services if s["sector"] == "fire_rescue"
    )
    # Sector names, never their codes, for people.
    assert "fire_rescue" not in {
        c for row in fire["Services - Gwasanaethau"].iter_rows(values_only=True) for c in row
    }
    assert template_xlsx(reference, body=SWANSEA) == template_xlsx(reference, body=SWANSEA)
    with pytest.raises(ValueError, match="not a body code"):
        template_xlsx(reference, body="W99999999")


@pytest.mark.parametrize("language", ["en", "cy"])
def test_the_12_month_change_is_in_the_unit_its_header_names(demo_run, language):
    """Shares change in percentage points (0.077 is shown +7.7, not +7.7%); letters per 1,000
    in per cent. The values are the warehouse's own, read independently, for every body."""
    import duckdb

    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        paces = con.execute(
            "select body_code, indicator_code, pace from marts.indicator_progress"
        ).fetchall()
    units = {i["indicator_code"]: i["unit"] for i in load_reference().indicators}
    by_body: dict[str, dict] = {}
    for body, indicator, pace in paces:
        by_body.setdefault(body, {})[indicator] = pace
    checked = {"fraction": 0, "other": 0}
    for body, expected in sorted(by_body.items()):
        workbook = load_workbook(demo_run.extracts / body / f"{body}.{language}.xlsx")
        sheet = workbook.worksheets[1]
        header = [c.value for c in sheet[1]]
        change, code = 8, len(header) - 1  # after the indicator, its value and 6 sector columns
        for row in sheet.iter_rows(min_row=2):
            indicator, cell = row[code].value, row[change]
            if expected.get(indicator) is None:
                assert cell.value is None, (body, indicator)
            elif units[indicator] == "fraction":
                assert cell.number_format == "+0.0;-0.0;0.0", (body, indicator)
                assert cell.value == pytest.approx(expected[indicator] * 100, abs=0.01)
                checked["fraction"] += 1
            else:
                assert cell.number_format == "+0.0%;-0.0%;0.0%", (body, indicator)
                assert cell.value == pytest.approx(expected[indicator], abs=0.0001)
                checked["other"] += 1
    assert checked["fraction"] > 0 and checked["other"] > 0, checked
