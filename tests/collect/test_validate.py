"""Each rule of the data contract, on the smallest file that breaks it, with the exact problem."""

from datetime import date

import pytest

from dagster_project.collect.feedback import report
from dagster_project.collect.read import MAX_FILE_BYTES
from dagster_project.collect.validate import (
    ParsedFile,
    Problem,
    parse_submission,
    rejected,
    validate_files,
)
from tests.conftest import CARDIFF, COUNCIL_SERVICES, PARKING, TAX, row, submission

TODAY = date(2026, 3, 15)
GOOD = row(CARDIFF, "2026-02", TAX, 1000, 600, "yes", "no", 400, 600)


def problems_of(data: bytes, name: str = "f.csv") -> list[Problem]:
    return validate_files([parse_submission(name, data)], _reference(), TODAY)[name]


def _reference():
    from dagster_project.reference import load_reference

    return load_reference()


def only(problems: list[Problem]) -> tuple:
    assert len(problems) == 1, problems
    p = problems[0]
    return (p.row, p.column, p.value, p.rule, p.expected("en"))


def test_a_valid_file_has_no_problems():
    assert problems_of(submission(GOOD, {**GOOD, "service_code": PARKING})) == []


def test_byte_order_mark_header_spacing_and_case_and_blank_rows_are_accepted():
    text = submission(GOOD).decode().replace("body_code", " Body_Code ", 1)
    data = "\ufeff".encode() + text.encode() + b"\n,,,,,,,,,,,,,\n"
    parsed = parse_submission("f.csv", data)
    assert parsed.problems == [] and len(parsed.rows) == 1
    assert parsed.rows[0]["body_code"] == CARDIFF


def test_not_available_in_optional_cells_means_empty():
    parsed = parse_submission("f.csv", submission({**GOOD, "transactions_phone": "n/a"}))
    assert parsed.rows[0]["transactions_phone"] == ""
    assert problems_of(submission({**GOOD, "transactions_phone": "N/A"})) == []


@pytest.mark.parametrize("value", ["12.5", "-3", "1,23", "12,3456", "lots", "1e3"])
def test_counts_must_be_whole_numbers(value):
    assert only(problems_of(submission({**GOOD, "letters_posted": value}))) == (
        2,
        "letters_posted",
        value,
        "whole_number",
        "a whole number of 0 or more, digits only (e.g. 1250)",
    )


def test_required_cell_left_empty():
    assert only(problems_of(submission({**GOOD, "digital_notifications": ""}))) == (
        2,
        "digital_notifications",
        "",
        "required",
        "a value: this column is required",
    )


def test_flags_must_be_yes_or_no():
    assert only(problems_of(submission({**GOOD, "available_online": "maybe"}))) == (
        2,
        "available_online",
        "maybe",
        "yes_no",
        "yes or no",
    )
    assert problems_of(submission({**GOOD, "available_online": "YES"})) == []


@pytest.mark.parametrize("value", ["2026-13", "Feb 2026", "2026-2", "202602"])
def test_period_must_be_year_and_month(value):
    assert only(problems_of(submission({**GOOD, "period": value}))) == (
        2,
        "period",
        value,
        "period_format",
        "a month written YYYY-MM, e.g. 2025-04",
    )


def test_period_cannot_be_in_the_future():
    assert only(problems_of(submission({**GOOD, "period": "2026-04"}))) == (
        2,
        "period",
        "2026-04",
        "period_future",
        "a month no later than 2026-03",
    )
    assert problems_of(submission({**GOOD, "period": "2026-03"})) == []


def test_body_must_be_registered():
    assert only(problems_of(submission({**GOOD, "body_code": "W06999999"}))) == (
        2,
        "body_code",
        "W06999999",
        "known_body",
        "a body code from the register of public bodies (e.g. W06000015)",
    )


def test_one_body_per_file():
    other = {**GOOD, "body_code": "W06000011", "service_code": PARKING}
    assert only(problems_of(submission(GOOD, other))) == (
        3,
        "body_code",
        "W06000011",
        "one_body_per_file",
        f"the same body_code on every row (the first row has {CARDIFF})",
    )


def test_service_must_be_in_the_catalogue_of_the_body_sector():
    [problem] = problems_of(submission({**GOOD, "service_code": "hb_repeat_prescription"}))
    assert (problem.row, problem.column, problem.value, problem.rule) == (
        2,
        "service_code",
        "hb_repeat_prescription",
        "known_service",
    )
    # Nothing in Cardiff's 13 council services looks like it: all 13 are listed, by code.
    assert problem.nearest == ()
    assert problem.valid == tuple(COUNCIL_SERVICES) and len(COUNCIL_SERVICES) == 13
    assert problem.expected("en") == (
        "a service code from the catalogue of its sector (Local authorities). The valid codes: "
        + ", ".join(f"'{code}'" for code in COUNCIL_SERVICES)
        + "."
    )
    assert problem.expected("cy") == (
        "cod gwasanaeth o gatalog ei sector (Awdurdodau lleol). Y codau dilys: "
        + ", ".join(f"'{c}'" for c in COUNCIL_SERVICES)
        + "."
    )


def test_a_misspelt_service_code_gets_the_nearest_valid_codes():
    # One letter dropped from la_parking_permit: it is the nearest of Cardiff's services; the
    # 13 are too many to list when some are near.
    [problem] = problems_of(submission({**GOOD, "service_code": "la_parkng_permit"}))
    assert problem.rule == "known_service" and problem.nearest[0] == PARKING
    assert problem.valid == ()
    assert f"Did you mean '{PARKING}'" in problem.expected("en")
    welsh = problem.expected("cy")
    assert f"Ai '{PARKING}'" in welsh and "oedd gennych chi?" in welsh


def test_a_few_services_are_all_listed_nearest_first():
    # A fire and rescue authority reports 4 services (body_services.csv): few enough to list.
    reference = _reference()
    fire = next(b["body_code"] for b in reference.bodies if b["sector"] == "fire_rescue")
    services = reference.services_of(fire)
    assert len(services) == 4
    near = services[0][:-1]  # the first code with its last letter dropped
    data = submission({**GOOD, "body_code": fire, "service_code": near})
    [problem] = [p for p in problems_of(data) if p.rule == "known_service"]
    assert problem.nearest[0] == services[0]
    assert set(problem.nearest + problem.valid) == set(services)
    assert len(problem.nearest + problem.valid) == 4


def test_online_cannot_exceed_total():
    assert only(problems_of(submission({**GOOD, "transactions_online": 1001}))) == (
        2,
        "transactions_online",
        "1001",
        "online_not_above_total",
        "no more than transactions_total (1000)",
    )


def test_channels_when_all_given_add_up_to_total():
    channels = {
        "transactions_phone": 200,
        "transactions_face_to_face": 100,
        "transactions_paper": 50,
        "transactions_other": 49,
    }
    assert only(problems_of(submission({**GOOD, **channels}))) == (
        2,
        "transactions_total",
        "1000",
        "channels_add_up",
        "online + phone + face to face + paper + other = total; they add up to 999",
    )
    assert problems_of(submission({**GOOD, **channels, "transactions_other": 50})) == []
    # A partial breakdown is optional and not summed.
    assert problems_of(submission({**GOOD, "transactions_phone": 5})) == []


def test_one_row_per_body_period_and_service():
    assert only(problems_of(submission(GOOD, GOOD))) == (
        3,
        "service_code",
        TAX,
        "duplicate_row",
        "one row per body, month and service; row 2 has the same",
    )


def test_implausibly_large_count():
    big = "9" * 16
    assert only(problems_of(submission({**GOOD, "letters_posted": big}))) == (
        2,
        "letters_posted",
        big,
        "too_large",
        "a figure below 10^15",
    )


@pytest.mark.parametrize(
    ("data", "rule", "value"),
    [
        (b"", "empty_file", ""),
        (b"\n\n", "empty_file", ""),
        (submission(), "no_rows", ""),
        (b"body_code,\x81\x8d\n", "encoding", "byte 0x81 at offset 10"),
        (
            b"PK\x03\x04not really a workbook",
            "not_a_spreadsheet",
            "a damaged workbook (BadZipFile)",
        ),
        (b"\xd0\xcf\x11\xe0old excel", "not_a_spreadsheet", "an old-style .xls workbook"),
        (b"\x00\x01\x02binary", "not_a_spreadsheet", "binary content"),
    ],
)
def test_unreadable_files(data, rule, value):
    problem = problems_of(data)[0]
    assert (problem.row, problem.rule, problem.value) == (0, rule, value)


def test_missing_unknown_and_repeated_columns():
    text = submission(GOOD).decode().replace("letters_posted", "letters", 1)
    found = {(p.rule, p.column) for p in problems_of(text.encode())}
    assert found == {("missing_column", "letters_posted"), ("unknown_column", "letters")}
    header, line = submission(GOOD).decode().splitlines()
    found = {(p.rule, p.column) for p in problems_of(f"{header},notes\n{line},x\n".encode())}
    assert found == {("duplicate_column", "notes")}


def test_row_with_wrong_number_of_cells():
    header, line = submission(GOOD).decode().splitlines()
    assert only(problems_of(f"{header}\n{line},extra\n".encode())) == (
        2,
        "",
        "20 cells",
        "row_length",
        "19 cells, one per header column",
    )


def test_volume_far_from_the_body_history_is_a_warning():
    import pyarrow as pa

    from dagster_project.collect.validate import HISTORY_SCHEMA

    history = pa.Table.from_pylist(
        [{"body_code": CARDIFF, "service_code": TAX, "median_total": 80.0}], schema=HISTORY_SCHEMA
    )
    parsed = parse_submission("f.csv", submission(GOOD))  # 1000 > 10 x 80
    [problem] = validate_files([parsed], _reference(), TODAY, history)["f.csv"]
    assert (problem.rule, problem.severity, problem.value, problem.detail) == (
        "volume_outlier",
        "warning",
        "1000",
        "80",
    )


def test_file_too_large_is_not_read():
    problem = parse_submission("f.csv", b"x" * (MAX_FILE_BYTES + 1)).problems[0]
    assert problem.rule == "file_too_large"


def test_problems_are_reported_for_every_bad_row_of_a_batch():
    bad = {**GOOD, "transactions_online": "x"}
    files = [
        parse_submission("a.csv", submission(GOOD)),
        parse_submission("b.csv", submission(GOOD, {**bad, "service_code": PARKING})),
    ]
    found = validate_files(files, _reference(), TODAY)
    assert found["a.csv"] == []
    assert [(p.row, p.rule) for p in found["b.csv"]] == [(3, "whole_number")]


def test_markup_and_formulas_in_notes_are_just_text():
    note = '=HYPERLINK("x") <script>alert(1)</script> \'; drop table raw.submissions; --'
    assert problems_of(submission({**GOOD, "notes": note})) == []
    assert parse_submission("f.csv", submission({**GOOD, "notes": note})).rows[0]["notes"] == note


def test_short_rows_have_empty_trailing_cells():
    header, line = submission({**GOOD, "notes": ""}).decode().splitlines()
    assert problems_of(f"{header}\n{line.rstrip(',')}\n".encode()) == []


def test_thousands_separators_are_read_when_unambiguous():
    data = submission({**GOOD, "transactions_total": "12,345", "transactions_online": "1,000"})
    row = parse_submission("f.csv", data).rows[0]
    assert (row["transactions_total"], row["transactions_online"]) == ("12345", "1000")


def test_windows_1252_and_welsh_letters():
    note = "Gwasanaeth newydd — café"
    data = submission({**GOOD, "notes": note}).decode().encode("cp1252")
    assert parse_submission("f.csv", data).rows[0]["notes"] == note
    welsh = "Ymholiadau ŵyr ac ŷd â ô"
    assert parse_submission("f.csv", submission({**GOOD, "notes": welsh})).rows[0]["notes"] == welsh


def test_title_rows_above_the_header_and_a_trailing_totals_row():
    text = submission(GOOD).decode()
    data = f"Cardiff Council monthly return,,\n\n{text}Total,,,1000,600,,,,,,,400,600,\n".encode()
    parsed = parse_submission("f.csv", data)
    assert len(parsed.rows) == 1 and parsed.rows[0]["_row"] == "4"
    assert [(p.row, p.rule, p.severity) for p in problems_of(data)] == [
        (5, "totals_row_ignored", "warning")
    ]


def test_yes_no_spellings():
    for spelling in ("Y", "n", "TRUE", "false", "Yes"):
        assert problems_of(submission({**GOOD, "digital_by_default": spelling})) == []


def test_partial_channel_breakdown_above_total_is_a_warning():
    [problem] = problems_of(submission({**GOOD, "transactions_phone": 500}))
    assert (problem.rule, problem.severity, problem.detail) == (
        "channels_exceed_total",
        "warning",
        "1100",
    )


def test_row_about_another_body_than_the_sender():
    data = submission({**GOOD, "body_code": "W06000011"})
    parsed = parse_submission("f.csv", data, sender=CARDIFF)
    [problem] = validate_files([parsed], _reference(), TODAY)["f.csv"]
    assert (problem.row, problem.rule, problem.expected("en")) == (
        2,
        "wrong_body",
        f"figures about {CARDIFF} only, the body that sent them",
    )


def test_every_problem_is_explained_in_welsh_too():
    [problem] = problems_of(submission({**GOOD, "transactions_online": 1001}))
    assert problem.expected("cy") == "dim mwy na transactions_total (1000)"
    assert problem.fix("cy").startswith("Mae trafodion ar-lein yn rhan o'r cyfanswm")
    assert "rhes 2, colofn 'transactions_online'" in problem.describe("cy")


def test_the_submission_suite_covers_every_cell_rule_of_the_contract():
    from dagster_project.collect.contract import COLUMNS
    from expectations.runner import load_suite_definition

    suite = load_suite_definition("submission_rows")
    covered = {(e["kwargs"]["column"], e["meta"]["rule"]) for e in suite["expectations"]}
    wanted = {(c.name, "required") for c in COLUMNS if c.required}
    rule_of_kind = {
        "count": "whole_number",
        "money": "money",
        "flag": "yes_no",
        "period": "period_format",
    }
    wanted |= {(c.name, rule_of_kind[c.kind]) for c in COLUMNS if c.kind != "text"}
    assert covered == wanted


def test_no_months_before_the_body_was_onboarded():
    # Every body in the register is onboarded from 2024-01.
    assert only(problems_of(submission({**GOOD, "period": "2023-12"}))) == (
        2,
        "period",
        "2023-12",
        "before_onboarding",
        "a month from 2024-01, when this body started reporting",
    )
    assert problems_of(submission({**GOOD, "period": "2024-01"})) == []


def test_problems_listed_per_file_are_capped_and_the_rest_counted():
    # 300 distinct rows, each with two bad cells: 600 errors. The first 200 in row order are
    # listed (rows 2-101, two each); one line counts the other 400, by rule.
    months = [f"{2024 + m // 12}-{m % 12 + 1:02d}" for m in range(26)]
    keys = [(month, service) for month in months for service in COUNCIL_SERVICES][:300]
    bad = {"letters_posted": "x", "available_online": "maybe"}
    data = submission(*[{**GOOD, "period": p, "service_code": s, **bad} for p, s in keys])
    found = problems_of(data)
    assert len(found) == 201
    assert {(p.row, p.rule) for p in found if p.row} == {
        (number, rule) for number in range(2, 102) for rule in ("whole_number", "yes_no")
    }
    [summary] = [p for p in found if not p.row]
    assert (summary.rule, summary.value, summary.detail) == (
        "more_errors",
        "400",
        "whole_number, yes_no",
    )
    assert summary.expected("en") == (
        "at most 200 problems listed per file, and 400 more errors of these rules: "
        "whole_number, yes_no"
    )
    assert summary.expected("cy") == (
        "200 problem ar y mwyaf wedi'u rhestru ym mhob ffeil, a 400 gwall arall o'r rheolau "
        "hyn: whole_number, yes_no"
    )
    content = report(parse_submission("f.csv", data), found, "2026-03-15T06:00:00")
    assert (content["errors"], content["warnings"]) == (600, 0)
    assert content["summary_en"].startswith("600 errors and 0 warnings found.")
    assert content["summary_cy"].startswith("Canfuwyd problemau (gwallau: 600, rhybuddion: 0).")


def test_an_error_after_hundreds_of_warnings_is_listed_and_rejects_the_file():
    # 300 warnings, then one error: errors are listed first, so the report shows why the file
    # is rejected; 199 warnings are listed and the other 101 counted.
    warnings = [Problem("f.csv", n, "", "", "totals_row_ignored") for n in range(2, 302)]
    error = Problem("f.csv", 400, "period", "x", "period_format")
    parsed = ParsedFile("f.csv", "hash", problems=[*warnings, error])
    found = validate_files([parsed], _reference(), TODAY)["f.csv"]
    assert len(found) == 201 and rejected(found)
    assert [p for p in found if p.severity == "error"] == [error]
    [summary] = [p for p in found if not p.row]
    assert (summary.rule, summary.severity, summary.value, summary.detail) == (
        "more_warnings",
        "warning",
        "101",
        "totals_row_ignored",
    )
    assert report(parsed, found, "")["warnings"] == 300


def test_rules_across_rows_are_capped_inside_the_query():
    # 300 distinct rows, online above total in each: the DuckDB rules return 200 and a count.
    months = [f"{2024 + m // 12}-{m % 12 + 1:02d}" for m in range(26)]
    keys = [(month, service) for month in months for service in COUNCIL_SERVICES][:300]
    over = {"transactions_online": 1001}
    found = problems_of(
        submission(*[{**GOOD, "period": p, "service_code": s, **over} for p, s in keys])
    )
    assert {(p.row, p.rule) for p in found if p.row} == {
        (number, "online_not_above_total") for number in range(2, 202)
    }
    [summary] = [p for p in found if not p.row]
    assert (summary.rule, summary.value, summary.detail) == (
        "more_errors",
        "100",
        "online_not_above_total",
    )
