"""Contract v2: the optional measures (completion, satisfaction, cost, the Welsh language). Each
rule on the smallest row that breaks it, with what the body is told in English and Welsh; a v1
file loads unchanged; a measure not given is NULL in the warehouse, never 0; every reader (the
fast path, the Python reader, workbooks, API payloads) reads them alike."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.collect.api import PullResult, payload_submission
from dagster_project.collect.contract import (
    COLUMN_NAMES,
    COLUMNS,
    MONEY_PATTERN,
    V1_COLUMN_NAMES,
    WHOLE_NUMBER_PATTERN,
)
from dagster_project.collect.fast import (
    LAYOUTS_BY_POSITION,
    parse_plain,
    plain_header,
    plain_rows_text,
)
from dagster_project.collect.load import collect_submissions
from dagster_project.collect.read import TEMPLATE_SHEET
from dagster_project.collect.template import template_csv, template_xlsx
from dagster_project.collect.validate import ParsedFile, parse_submission, validate_files
from expectations.runner import load_suite_definition
from exports.cells import workbook_bytes
from tests.conftest import CARDIFF, PARKING, TAX, row, write_landing

TODAY = date(2026, 3, 15)
NOW = datetime(2026, 3, 1, 9, 0)
GOOD = row(CARDIFF, "2026-02", TAX, 1000, 600, "yes", "no", 400, 600)
MEASURES = ("online_started", "satisfaction_responses", "satisfied_responses", "cost_total",
            "transactions_online_welsh")  # fmt: skip
FULL = {
    "online_started": 750,
    "satisfaction_responses": 80,
    "satisfied_responses": 64,
    "cost_total": "5400.50",
    "transactions_online_welsh": 45,
}


def csv_of(columns: tuple[str, ...], *rows: dict) -> bytes:
    """A CSV with exactly `columns` as its header; a cell with a comma is quoted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[str(r.get(c, "")) for c in columns] for r in rows])
    return out.getvalue().encode("utf-8")


def v2(*rows: dict) -> bytes:
    return csv_of(COLUMN_NAMES, *rows)


def v1(*rows: dict) -> bytes:
    return csv_of(V1_COLUMN_NAMES, *rows)


def _reference():
    from dagster_project.reference import load_reference

    return load_reference()


def problems_of(data: bytes, name: str = "f.csv"):
    return validate_files([parse_submission(name, data)], _reference(), TODAY)[name]


def only(data: bytes) -> tuple:
    [p] = problems_of(data)
    return (p.row, p.column, p.value, p.rule, p.severity, p.expected("en"), p.expected("cy"))


def test_the_contract_adds_five_optional_measures_after_v1():
    assert COLUMN_NAMES[: len(V1_COLUMN_NAMES)] == V1_COLUMN_NAMES
    assert COLUMN_NAMES[len(V1_COLUMN_NAMES) :] == MEASURES
    kinds = {c.name: (c.kind, c.required) for c in COLUMNS}
    assert [kinds[m] for m in MEASURES] == [("count", False)] * 3 + [("money", False)] + [
        ("count", False)
    ]


def test_a_row_with_every_measure_is_valid():
    assert problems_of(v2({**GOOD, **FULL})) == []


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ({"online_started": 600}, {"online_started": "600"}),  # started == online: all finished
        ({"satisfaction_responses": 80, "satisfied_responses": 80}, {"satisfied_responses": "80"}),
        ({"satisfaction_responses": 12}, {"satisfaction_responses": "12"}),  # no satisfied yet
        ({"satisfaction_responses": 0, "satisfied_responses": 0}, {"satisfied_responses": "0"}),
        ({"transactions_online_welsh": 600}, {"transactions_online_welsh": "600"}),
        ({"cost_total": "0"}, {"cost_total": "0"}),
        ({"cost_total": "12.5"}, {"cost_total": "12.5"}),
        ({"cost_total": "£5400.50"}, {"cost_total": "5400.50"}),
        ({"cost_total": "£ 7"}, {"cost_total": "7"}),
        ({"cost_total": "N/A", "online_started": "n/a"}, {"cost_total": "", "online_started": ""}),
        ({"online_started": "1,250"}, {"online_started": "1250"}),  # as for every count
    ],  # fmt: skip
)
def test_what_is_accepted_and_how_it_is_read(given, read):
    data = v2({**GOOD, **given})
    assert problems_of(data) == []
    [parsed] = parse_submission("f.csv", data).rows
    assert {column: parsed[column] for column in read} == read


def test_thousands_separators_and_a_pound_sign_in_a_quoted_cell():
    data = v2({**GOOD, "cost_total": "£1,234,567.89"})
    [parsed] = parse_submission("f.csv", data).rows
    assert parsed["cost_total"] == "1234567.89"
    assert problems_of(data) == []


@pytest.mark.parametrize("value", ["12.505", "-5", "£-5", "€12", "12 GBP", "1e3", ".5", "12.",
                                   "£", "1,23.00", "12,50", "5k", "(12.00)"])  # fmt: skip
def test_cost_must_be_pounds_with_at_most_two_decimals(value):
    assert only(v2({**GOOD, "cost_total": value})) == (
        2,
        "cost_total",
        value,  # as the body wrote it, pound sign and all
        "money",
        "error",
        "an amount in pounds of 0 or more, with at most 2 decimal places (e.g. 1250.50 or "
        "£1,250.50)",
        "swm mewn punnoedd o 0 neu fwy, gyda 2 le degol ar y mwyaf (e.e. 1250.50 neu £1,250.50)",
    )


@pytest.mark.parametrize(
    "column", ["online_started", "satisfaction_responses", "transactions_online_welsh"]
)
@pytest.mark.parametrize("value", ["12.5", "-3", "lots"])
def test_count_measures_must_be_whole_numbers(column, value):
    assert only(v2({**GOOD, column: value})) == (
        2,
        column,
        value,
        "whole_number",
        "error",
        "a whole number of 0 or more, digits only (e.g. 1250)",
        "rhif cyfan o 0 neu fwy, digidau yn unig (e.e. 1250)",
    )


def test_fewer_started_than_completed_online():
    assert only(v2({**GOOD, "online_started": 599})) == (
        2,
        "online_started",
        "599",
        "started_not_below_online",
        "error",
        "no fewer than transactions_online (600): every transaction completed online was first "
        "started online",
        "dim llai na transactions_online (600): dechreuwyd pob trafodiad a gwblhawyd ar-lein "
        "ar-lein yn gyntaf",
    )


def test_satisfied_without_the_number_of_responses():
    assert only(v2({**GOOD, "satisfied_responses": 30})) == (
        2,
        "satisfaction_responses",
        "",
        "satisfied_needs_responses",
        "error",
        "the number of satisfaction responses, since satisfied_responses (30) is given: "
        "satisfied users are a share of those who responded",
        "nifer yr ymatebion boddhad, gan fod satisfied_responses (30) wedi'i roi: cyfran o'r "
        "rhai a ymatebodd yw'r defnyddwyr bodlon",
    )


def test_more_satisfied_than_responded():
    assert only(v2({**GOOD, "satisfaction_responses": 40, "satisfied_responses": 41})) == (
        2,
        "satisfied_responses",
        "41",
        "satisfied_not_above_responses",
        "error",
        "no more than satisfaction_responses (40)",
        "dim mwy na satisfaction_responses (40)",
    )


def test_more_welsh_than_online():
    assert only(v2({**GOOD, "transactions_online_welsh": 601})) == (
        2,
        "transactions_online_welsh",
        "601",
        "welsh_not_above_online",
        "error",
        "no more than transactions_online (600)",
        "dim mwy na transactions_online (600)",
    )


def test_an_implausible_cost():
    assert only(v2({**GOOD, "cost_total": "1" + "0" * 15 + ".00"}))[2:6] == (
        "1000000000000000.00",
        "too_large",
        "error",
        "a figure below 10^15",
    )
    assert problems_of(v2({**GOOD, "cost_total": "9" * 15 + ".99"})) == []  # fits decimal(18,2)


def test_a_rule_between_two_cells_waits_for_both_to_be_numbers():
    # The whole_number problem alone: the comparison with a cell that is not a number is moot.
    assert [p.rule for p in problems_of(v2({**GOOD, "online_started": "5x"}))] == ["whole_number"]
    assert [
        p.rule
        for p in problems_of(v2({**GOOD, "satisfaction_responses": "x", "satisfied_responses": 9}))
    ] == ["whole_number"]


def test_the_rules_and_their_wording_report_every_row_that_breaks_them():
    rows = [
        {**GOOD, "online_started": 599},
        {**GOOD, "service_code": PARKING, "transactions_online_welsh": 700,
         "satisfaction_responses": 5, "satisfied_responses": 6},
    ]  # fmt: skip
    found = sorted((p.row, p.column, p.rule) for p in problems_of(v2(*rows)))
    assert found == [
        (2, "online_started", "started_not_below_online"),
        (3, "satisfied_responses", "satisfied_not_above_responses"),
        (3, "transactions_online_welsh", "welsh_not_above_online"),
    ]


def test_the_suite_and_the_contract_share_their_patterns():
    patterns = {
        e["kwargs"]["column"]: e["kwargs"]["regex"]
        for e in load_suite_definition("submission_rows")["expectations"]
        if "regex" in e["kwargs"]
    }
    for column in COLUMNS:
        if column.kind == "count":
            assert patterns[column.name] == f"^{WHOLE_NUMBER_PATTERN}$", column.name
        if column.kind == "money":
            assert patterns[column.name] == f"^{MONEY_PATTERN}$", column.name


# --- the readers read v1 and v2 alike --------------------------------------------------------


def _fast(data: bytes) -> list[dict[str, str]] | None:
    text = plain_rows_text("f.csv", data)
    table = parse_plain({0: text}).get(0) if text is not None else None
    if table is None:
        return None
    parsed = ParsedFile("f.csv", "", CARDIFF, table=table)
    parsed.with_row_dicts()
    return parsed.rows


@pytest.mark.parametrize(
    "columns",
    [
        V1_COLUMN_NAMES,  # a v1 file
        COLUMN_NAMES,  # the v2 template
        (*V1_COLUMN_NAMES, "cost_total"),  # v1 and one measure
        ("cost_total", *reversed(V1_COLUMN_NAMES), "online_started"),  # any order
    ],
    ids=["v1", "v2", "v1+cost", "reordered"],
)
def test_v1_and_v2_layouts_take_the_fast_path_and_read_as_the_python_reader_reads(columns):
    data = csv_of(columns, {**GOOD, **FULL, "cost_total": "£5400.50"})
    fast = _fast(data)
    assert fast is not None
    assert fast == parse_submission("f.csv", data).rows
    given = {c: fast[0][c] for c in MEASURES}
    assert given == {
        "online_started": "750" if "online_started" in columns else "",
        "satisfaction_responses": "80" if "satisfaction_responses" in columns else "",
        "satisfied_responses": "64" if "satisfied_responses" in columns else "",
        "cost_total": "5400.50" if "cost_total" in columns else "",
        "transactions_online_welsh": "45" if "transactions_online_welsh" in columns else "",
    }


@pytest.mark.parametrize(
    "header",
    [
        ",".join([*V1_COLUMN_NAMES, "cost_total", "cost_total"]),  # a column twice
        ",".join([*V1_COLUMN_NAMES, "satisfaction"]),  # a column not in the contract
        ",".join(c for c in V1_COLUMN_NAMES if c != "letters_posted"),  # a required one missing
        ",".join(V1_COLUMN_NAMES) + ",",  # an empty header cell
        ",".join([*V1_COLUMN_NAMES, "Cost_Total"]),  # another spelling
    ],
)
def test_a_header_the_python_reader_must_judge_is_left_to_it(header):
    data = (header + "\n" + ",".join(str(v) for v in GOOD.values()) + "\n").encode()
    assert plain_rows_text("f.csv", data) is None


def test_a_header_longer_than_the_template_s_is_not_even_split():
    """Only a first line that could be a valid header is judged (and remembered): a long one
    never reaches plain_header's cache."""
    long_header = ",".join([*COLUMN_NAMES, "x" * 100_000]) + "\n"
    calls = plain_header.cache_info()
    assert plain_rows_text("f.csv", long_header.encode() + b"a\n") is None
    after = plain_header.cache_info()
    assert (after.hits, after.misses) == (calls.hits, calls.misses)


def test_a_workbook_gives_a_sum_of_money_as_a_number():
    rows = [list(COLUMN_NAMES), [GOOD.get(c, FULL.get(c)) for c in COLUMN_NAMES]]
    rows[1][COLUMN_NAMES.index("cost_total")] = 5400.5  # a currency cell is a float
    data = workbook_bytes({TEMPLATE_SHEET: rows})
    parsed = parse_submission("f.xlsx", data)
    assert parsed.rows[0]["cost_total"] == "5400.5"
    assert validate_files([parsed], _reference(), TODAY) == {"f.xlsx": []}


def test_an_api_payload_gives_sums_of_money_exactly_as_written():
    record = {**GOOD, "available_online": True, "digital_by_default": False,
              "online_started": 750, "cost_total": 5400.5,
              "transactions_online_welsh": 45}  # fmt: skip
    data = json.dumps({"body_code": CARDIFF, "submissions": [record]}).encode()
    data = data.replace(b"5400.5", b"5400.50")  # as a body's JSON would write pounds
    pulled = PullResult(CARDIFF, "https://example.invalid/", "ok", 1, 200, "", data)
    parsed = payload_submission(pulled)
    assert {c: parsed.rows[0][c] for c in MEASURES} == {
        "online_started": "750",
        "satisfaction_responses": "",
        "satisfied_responses": "",
        "cost_total": "5400.50",
        "transactions_online_welsh": "45",
    }
    assert validate_files([parsed], _reference(), TODAY) == {parsed.name: []}
    # A count written with a point is the whole number it is, as a float always was.
    again = data.replace(b'"online_started": 750', b'"online_started": 750.0')
    parsed = payload_submission(PullResult(CARDIFF, "u", "ok", 1, 200, "", again))
    assert parsed.rows[0]["online_started"] == "750"
    for odd, read in ((b"1e+999999", "1E+999999"), (b"12.345", "12.345")):
        odd_cost = data.replace(b"5400.50", odd)
        parsed = payload_submission(PullResult(CARDIFF, "u", "ok", 1, 200, "", odd_cost))
        assert parsed.rows[0]["cost_total"] == read
        [problem] = validate_files([parsed], _reference(), TODAY)[parsed.name]
        assert (problem.column, problem.rule) == ("cost_total", "money")


# --- the warehouse: not given is NULL, never 0 ---------------------------------------------------


def _loaded(paths) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(
            f"select file_name, service_code, {', '.join(MEASURES)} "
            "from raw.submissions order by file_name, service_code"
        ).fetchall()


def test_v1_and_v2_files_load_side_by_side_and_what_is_not_given_is_null(data_paths, reference):
    files = {
        f"{CARDIFF}/a-v1.csv": v1(row(CARDIFF, "2026-01", TAX, 10, 5, "yes", "no", 1, 1)),
        f"{CARDIFF}/b-v2.csv": v2(
            {**GOOD, **FULL},
            {
                **GOOD,
                "service_code": PARKING,
                "cost_total": "£0",
                "online_started": "n/a",
                "satisfaction_responses": 0,
            },
        ),  # fmt: skip
        f"{CARDIFF}/c-some.csv": csv_of(
            (*V1_COLUMN_NAMES, "transactions_online_welsh"),
            row(CARDIFF, "2025-12", TAX, 10, 5, "yes", "no", 1, 1, transactions_online_welsh=0),
        ),
    }
    write_landing(data_paths, files)
    result = collect_submissions(data_paths, reference, NOW)
    assert sorted(result.accepted) == sorted(files) and result.rejected == {}
    assert _loaded(data_paths) == [
        (f"{CARDIFF}/a-v1.csv", TAX, None, None, None, None, None),
        (f"{CARDIFF}/b-v2.csv", TAX, 750, 80, 64, Decimal("5400.50"), 45),
        (f"{CARDIFF}/b-v2.csv", PARKING, None, 0, None, Decimal("0.00"), None),
        (f"{CARDIFF}/c-some.csv", TAX, None, None, None, None, 0),
    ]


def test_a_v2_file_breaking_a_rule_is_quarantined_whole(data_paths, reference):
    files = {
        f"{CARDIFF}/feb.csv": v2(
            {**GOOD, **FULL}, {**GOOD, "service_code": PARKING, "transactions_online_welsh": 601}
        )
    }
    write_landing(data_paths, files)
    result = collect_submissions(data_paths, reference, NOW)
    assert list(result.rejected) == [f"{CARDIFF}/feb.csv"] and _loaded(data_paths) == []
    report = json.loads(
        (data_paths.quarantine / f"{CARDIFF}__feb.csv.report.json").read_text(encoding="utf-8")
    )
    [problem] = report["problems"]
    assert (problem["row"], problem["column"], problem["value"], problem["rule"]) == (
        3,
        "transactions_online_welsh",
        "601",
        "welsh_not_above_online",
    )
    assert problem["expected_cy"] == "dim mwy na transactions_online (600)"


# --- the template ----------------------------------------------------------------------------


def test_the_template_has_the_optional_measures_described_in_both_languages(reference):
    assert template_csv().decode().strip().split(",") == list(COLUMN_NAMES)
    book = load_workbook(io.BytesIO(template_xlsx(reference, body=CARDIFF)), read_only=True)
    help_sheet = next(book[name] for name in book.sheetnames if name.startswith("Help"))
    described = {r[0]: r for r in help_sheet.iter_rows(min_row=2, values_only=True)}
    assert described["cost_total"][1:2] == ("no",)
    assert "pounds" in described["cost_total"][4] and "punnoedd" in described["cost_total"][5]
    assert "Welsh" in described["transactions_online_welsh"][4]
    assert "Gymraeg" in described["transactions_online_welsh"][5]
    # The example row is a valid v2 row.
    example_sheet = book[[n for n in book.sheetnames if n.startswith("Example")][0]]
    header, example = list(example_sheet.iter_rows(min_row=1, max_row=2, values_only=True))
    values = dict(zip(header, example, strict=False))
    assert (values["online_started"], values["cost_total"]) == (1000, 5400.5)


def test_a_batch_of_many_layouts_reads_each_file_as_the_python_reader_does():
    """More layouts than are parsed by fixed positions: the rest by each file's own header."""
    layouts = [(*V1_COLUMN_NAMES, *MEASURES[:n]) for n in range(len(MEASURES) + 1)] + [
        tuple(reversed(COLUMN_NAMES)),
        (*MEASURES, *V1_COLUMN_NAMES),
    ]
    assert len(layouts) > LAYOUTS_BY_POSITION + 2
    files = {
        i: csv_of(columns, {**GOOD, **FULL, "cost_total": f"£{i}.50"}, {**GOOD, "notes": "ŵ"})
        for i, columns in enumerate(layouts * 2)
    }
    texts = {i: plain_rows_text("f.csv", data) for i, data in files.items()}
    tables = parse_plain(texts)
    assert sorted(tables) == sorted(files)
    for i, data in files.items():
        parsed = ParsedFile("f.csv", "", CARDIFF, table=tables[i])
        parsed.with_row_dicts()
        assert parsed.rows == parse_submission("f.csv", data).rows, layouts[i % len(layouts)]


HEADER_V1 = (
    "body_code,period,service_code,transactions_total,transactions_online,available_online,"
    "digital_by_default,letters_posted,digital_notifications"
)


@pytest.mark.parametrize("note", ["(£000s)", "(£k)", "(pence)", "(thousands)", "(£m)", "(p)"])
def test_a_unit_note_on_the_cost_column_that_is_not_pounds_is_refused(note):
    """'cost_total (£000s)' with 45.5 would be read as £45.50 if the note were dropped, as
    notes on other columns are: a thousand times too little, so it is refused."""
    data = (
        f"{HEADER_V1},cost_total {note}\n"
        "W06000015,2026-01,la_council_tax_payment,100,60,yes,no,10,30,45.5\n"
    ).encode()
    parsed = parse_submission("return.csv", data, sender="W06000015")
    assert [(p.rule, p.column, p.value) for p in parsed.problems] == [
        ("money_unit", "cost_total", f"cost_total {note}")
    ]


@pytest.mark.parametrize("note", ["(£)", "(pounds)", "(GBP)", "(in £)", "( £ )", "(Punnoedd)"])
def test_a_note_that_says_pounds_is_accepted(note):
    data = (
        f"{HEADER_V1},cost_total {note}\n"
        "W06000015,2026-01,la_council_tax_payment,100,60,yes,no,10,30,45.5\n"
    ).encode()
    parsed = parse_submission("return.csv", data, sender="W06000015")
    assert parsed.problems == []
    assert parsed.rows[0]["cost_total"] == "45.5"
