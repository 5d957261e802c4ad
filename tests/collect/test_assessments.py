"""Digital Service Standard assessment returns: the second kind of return, in the same landing
folders and through the same validator, loading into raw.assessments whole or not at all."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from dagster_project.collect.assessments import (
    ASSESSMENT_COLUMNS,
    AssessmentFile,
    normalise_result,
    standard_numbers,
)
from dagster_project.collect.fast import plain_rows_text
from dagster_project.collect.load import collect_submissions
from dagster_project.collect.validate import parse_submission, validate_files
from dagster_project.reference import load_reference
from dagster_project.settings import DataPaths
from tests.conftest import CARDIFF, PARKING, SWANSEA, TAX, row, submission, write_landing

NOW = datetime(2026, 3, 1, 9, 0)
TODAY = NOW.date()
DAY = "2025-06-30"
# Standards 1-12: met, but 4 and 9 partly met and 11 not met (written as a body might).
RESULTS = {n: "met" for n in range(1, 13)} | {4: "partly_met", 9: "partly_met", 11: "not_met"}
NAME = f"{CARDIFF}/assessment-{PARKING}-{DAY}.csv"


def assessment_rows(
    body: str = CARDIFF, service: str = PARKING, day: str = DAY, results: dict | None = None
) -> list[list[str]]:
    """One assessment: a row per standard, in the order of standards.csv."""
    results = RESULTS if results is None else results
    return [[body, service, day, str(n), results[n]] for n in sorted(results)]


def as_csv(rows: list[list[str]], header: tuple[str, ...] = ASSESSMENT_COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


GOOD = as_csv(assessment_rows())


def check(data: bytes, sender: str | None = CARDIFF, name: str = NAME):
    parsed = parse_submission(name, data, sender=sender)
    return parsed, validate_files([parsed], load_reference(), TODAY)[name]


def loaded(paths: DataPaths) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(
            "select load_sequence, file_name, row_number, body_code, service_code, assessed_on, "
            "standard, result from raw.assessments order by load_sequence, row_number"
        ).fetchall()


def files(paths: DataPaths) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(
            "select load_sequence, file_name, status, return_kind, periods, row_count "
            "from raw.submission_files order by load_sequence"
        ).fetchall()


def test_the_twelve_standards_are_the_reference_data(reference):
    assert standard_numbers(reference) == tuple(range(1, 13))


def test_a_valid_assessment_loads_its_twelve_rows_and_is_no_monthly_return(data_paths, reference):
    write_landing(data_paths, {NAME: GOOD})
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [NAME] and not result.rejected
    assert (result.assessment_rows_loaded, result.rows_loaded) == (12, 0)
    june_30 = date(2025, 6, 30)
    assert loaded(data_paths) == [
        (1, NAME, n + 1, CARDIFF, PARKING, june_30, n, RESULTS[n]) for n in range(1, 13)
    ]
    # periods [] : the returns table (submission_returns) never counts it as a monthly return
    assert files(data_paths) == [(1, NAME, "accepted", "assessment", [], 12)]
    with duckdb.connect(str(data_paths.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.submissions").fetchone() == (0,)
        hashes = con.execute("select distinct loaded_at, content_hash from raw.assessments")
        assert hashes.fetchall() == [(NOW, parse_submission(NAME, GOOD).content_hash)]


@pytest.mark.parametrize(
    "written,meant",
    [
        ("met", "met"),
        ("Met", "met"),
        (" MET ", "met"),
        ("partly_met", "partly_met"),
        ("Partly met", "partly_met"),
        ("partly-met", "partly_met"),
        ("Partly  Met", "partly_met"),
        ("not met", "not_met"),
        ("Not-Met", "not_met"),
    ],
)
def test_a_result_is_read_whatever_its_case_and_separator(written, meant):
    assert normalise_result(written) == meant
    results = {**RESULTS, 5: written}
    parsed, problems = check(as_csv(assessment_rows(results=results)))
    assert problems == [] and parsed.rows[4]["result"] == meant


@pytest.mark.parametrize("written", ["partial", "partially", "pass", "yes", "n/a", "1", "metx"])
def test_a_result_that_is_not_one_of_the_three_is_refused_not_guessed(written):
    _, problems = check(as_csv(assessment_rows(results={**RESULTS, 5: written})))
    assert [(p.rule, p.row, p.column, p.value) for p in problems] == [
        ("assessment_result", 6, "result", written)
    ]


def _replace(rows: list[list[str]], index: int, column: str, value: str) -> list[list[str]]:
    rows = [list(r) for r in rows]
    rows[index][ASSESSMENT_COLUMNS.index(column)] = value
    return rows


def _every(rows: list[list[str]], column: str, value: str) -> list[list[str]]:
    for index in range(len(rows)):
        rows = _replace(rows, index, column, value)
    return rows


BASE = assessment_rows()
# (file, sender, rule, row, column, found, expected in English, expected in Welsh): each rule
# broken once, its row and column as the body sees them (header = row 1).
BROKEN = [
    (
        as_csv(_replace(BASE, 2, "body_code", "W06999999")),
        CARDIFF,
        "known_body",
        4,
        "body_code",
        "W06999999",
        "a body code from the register of public bodies (e.g. W06000015)",
        "cod corff o'r gofrestr o gyrff cyhoeddus (e.e. W06000015)",
    ),
    (
        as_csv(_every(BASE, "body_code", SWANSEA)),
        CARDIFF,
        "wrong_body",
        2,
        "body_code",
        SWANSEA,
        f"figures about {CARDIFF} only, the body that sent them",
        f"ffigurau am {CARDIFF} yn unig, y corff a'u hanfonodd",
    ),
    (
        as_csv(_replace(BASE, 3, "body_code", SWANSEA)),
        None,
        "one_body_per_file",
        5,
        "body_code",
        SWANSEA,
        f"the same body_code on every row (the first row has {CARDIFF})",
        f"yr un body_code ar bob rhes (mae gan y rhes gyntaf {CARDIFF})",
    ),
    (
        as_csv(_every(BASE, "service_code", "la_parking_permits")),
        CARDIFF,
        "known_service",
        2,
        "service_code",
        "la_parking_permits",
        "a service code from the catalogue of its sector (Local authorities). "
        "Did you mean 'la_parking_permit'?",
        "cod gwasanaeth o gatalog ei sector (Awdurdodau lleol). Ai 'la_parking_permit' oedd "
        "gennych chi?",
    ),
    (
        as_csv(_replace(BASE, 3, "result", "")),
        CARDIFF,
        "required",
        5,
        "result",
        "",
        "a value: this column is required",
        "gwerth: mae'r golofn hon yn orfodol",
    ),
    (
        # Natural Resources Wales assessing Transport for Wales's service, of the same sector's
        # catalogue: it would be published under the wrong body
        as_csv(_every(_every(BASE, "body_code", "NRW"), "service_code", "nb_tfw_rail_ticket")),
        "NRW",
        "assessed_service_delivered",
        2,
        "service_code",
        "nb_tfw_rail_ticket",
        "a service the body delivers, from its register of expected returns "
        "(nb_nrw_environmental_incident, nb_nrw_environmental_permit, nb_nrw_felling_licence, "
        "nb_nrw_waste_carrier_registration)",
        "gwasanaeth y mae'r corff yn ei ddarparu, o'i gofrestr o ffurflenni disgwyliedig "
        "(nb_nrw_environmental_incident, nb_nrw_environmental_permit, nb_nrw_felling_licence, "
        "nb_nrw_waste_carrier_registration)",
    ),
    (
        as_csv(_every(BASE, "assessed_on", "30/06/2025")),
        CARDIFF,
        "assessed_on_format",
        2,
        "assessed_on",
        "30/06/2025",
        "a real date written YYYY-MM-DD, e.g. 2025-06-30",
        "dyddiad go iawn ar y ffurf BBBB-MM-DD, e.e. 2025-06-30",
    ),
    (
        as_csv(_every(BASE, "assessed_on", "2025-02-29")),  # not a leap year
        CARDIFF,
        "assessed_on_format",
        2,
        "assessed_on",
        "2025-02-29",
        "a real date written YYYY-MM-DD, e.g. 2025-06-30",
        "dyddiad go iawn ar y ffurf BBBB-MM-DD, e.e. 2025-06-30",
    ),
    (
        as_csv(_every(BASE, "assessed_on", "2026-03-02")),
        CARDIFF,
        "assessed_on_future",
        2,
        "assessed_on",
        "2026-03-02",
        "a date no later than today, 2026-03-01",
        "dyddiad heb fod yn hwyrach na heddiw, 2026-03-01",
    ),
    (
        as_csv(_every(BASE, "assessed_on", "1999-12-31")),
        CARDIFF,
        "assessed_on_too_early",
        2,
        "assessed_on",
        "1999-12-31",
        "a date on or after 2000-01-01",
        "dyddiad ar neu ar ôl 2000-01-01",
    ),
    (
        as_csv(_replace(BASE, 11, "standard", "13")),
        CARDIFF,
        "standard_number",
        13,
        "standard",
        "13",
        "the number of one of the Digital Service Standards for Wales, a whole number 1–12",
        "rhif un o Safonau Gwasanaeth Digidol Cymru, rhif cyfan 1–12",
    ),
    (
        as_csv(_replace(BASE, 11, "standard", "12.0")),
        CARDIFF,
        "standard_number",
        13,
        "standard",
        "12.0",
        "the number of one of the Digital Service Standards for Wales, a whole number 1–12",
        "rhif un o Safonau Gwasanaeth Digidol Cymru, rhif cyfan 1–12",
    ),
    (
        as_csv(_replace(BASE, 11, "standard", "\u00b9\u00b2")),  # superscript digits
        CARDIFF,
        "standard_number",
        13,
        "standard",
        "\u00b9\u00b2",
        "the number of one of the Digital Service Standards for Wales, a whole number 1–12",
        "rhif un o Safonau Gwasanaeth Digidol Cymru, rhif cyfan 1–12",
    ),
    (
        as_csv([*BASE, BASE[4]]),  # standard 5 again, on row 14; first on row 6
        CARDIFF,
        "duplicate_standard",
        14,
        "standard",
        "5",
        "one row per service, assessment date and standard; row 6 has the same",
        "un rhes ar gyfer pob gwasanaeth, dyddiad asesu a safon; mae gan res 6 yr un peth",
    ),
    (
        as_csv([r for r in BASE if r[3] != "7"]),
        CARDIFF,
        "standards_incomplete",
        2,
        "standard",
        "1–6, 8–12",
        "a row for every standard of each service and assessment date; missing: 7",
        "rhes ar gyfer pob safon ar gyfer pob gwasanaeth a dyddiad asesu; ar goll: 7",
    ),
    (
        as_csv([r[:4] for r in BASE], ASSESSMENT_COLUMNS[:4]),
        CARDIFF,
        "missing_column",
        0,
        "result",
        "",
        "a column named 'result'",
        "colofn o'r enw 'result'",
    ),
    (
        as_csv([[*r, "fine"] for r in BASE], (*ASSESSMENT_COLUMNS, "notes")),
        CARDIFF,
        "unknown_column",
        0,
        "notes",
        "notes",
        "only the columns of the data contract",
        "colofnau'r contract data yn unig",
    ),
]


@pytest.mark.parametrize(
    "data,sender,rule,row_number,column,found,english,welsh",
    BROKEN,
    ids=[f"{case[2]}-{case[5]}" for case in BROKEN],
)
def test_each_rule_names_row_column_found_and_expected_in_english_and_welsh(
    data, sender, rule, row_number, column, found, english, welsh
):
    parsed, problems = check(data, sender)
    assert isinstance(parsed, AssessmentFile)
    first = next(p for p in problems if p.rule == rule)
    assert (first.file, first.row, first.column, first.value) == (NAME, row_number, column, found)
    assert first.severity == "error"
    assert (first.expected("en"), first.expected("cy")) == (english, welsh)
    where_en = f"row {row_number}, column '{column}'" if row_number else "whole file"
    where_cy = f"rhes {row_number}, colofn '{column}'" if row_number else "y ffeil gyfan"
    assert f"{NAME}: {where_en}: " in first.describe("en")
    assert f"{NAME}: {where_cy}: " in first.describe("cy")
    assert f"; expected {english} [{rule}]" in first.describe("en")
    assert f"; disgwyliwyd {welsh} [{rule}]" in first.describe("cy")
    assert first.fix("en") and first.fix("cy") and first.fix("en") != first.fix("cy")


def test_a_file_with_one_bad_row_loads_nothing_and_is_quarantined_with_its_report(
    data_paths, reference
):
    bad = as_csv(_replace(BASE, 6, "result", "passed"))  # row 8
    name = f"{CARDIFF}/assessment-{TAX}-{DAY}.csv"
    write_landing(data_paths, {name: bad})
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [] and list(result.rejected) == [name]
    assert loaded(data_paths) == []
    assert files(data_paths) == [(1, name, "rejected", "assessment", [], 12)]
    kept = data_paths.quarantine / f"{CARDIFF}__assessment-{TAX}-{DAY}.csv"
    assert kept.read_bytes() == bad
    report = json.loads(kept.with_name(kept.name + ".report.json").read_text(encoding="utf-8"))
    assert report["return_kind"] == "assessment" and report["due"] == []
    [problem] = report["problems"]
    assert (problem["row"], problem["column"], problem["value"], problem["rule"]) == (
        8,
        "result",
        "passed",
        "assessment_result",
    )
    assert problem["expected_cy"] == "met, partly_met neu not_met"
    assert report["next_en"] == (
        f"What next: correct the file and send the whole corrected assessment again, to "
        f"landing/{CARDIFF}/."
    )
    html = kept.with_name(kept.name + ".report.html").read_text(encoding="utf-8")
    assert 'lang="cy"' in html and "passed" in html
    assert not (data_paths.landing / name).exists()


def test_a_monthly_file_and_an_assessment_of_the_same_body_in_one_run(data_paths, reference):
    monthly = submission(row(CARDIFF, "2026-01", TAX, 10, 5, "yes", "no", 1, 1))
    write_landing(data_paths, {f"{CARDIFF}/jan.csv": monthly, NAME: GOOD})
    result = collect_submissions(data_paths, reference, NOW)
    assert sorted(result.accepted) == sorted([f"{CARDIFF}/jan.csv", NAME])
    assert (result.rows_loaded, result.assessment_rows_loaded) == (1, 12)
    kinds = {name: (kind, periods) for _, name, _, kind, periods, _ in files(data_paths)}
    assert kinds == {f"{CARDIFF}/jan.csv": ("monthly", ["2026-01"]), NAME: ("assessment", [])}
    assert len(loaded(data_paths)) == 12
    with duckdb.connect(str(data_paths.warehouse), read_only=True) as con:
        assert con.execute("select body_code, period from raw.submissions").fetchall() == [
            (CARDIFF, "2026-01")
        ]


def test_a_bad_assessment_never_blocks_a_monthly_file_or_another_body(data_paths, reference):
    monthly = submission(row(SWANSEA, "2026-01", TAX, 10, 5, "yes", "no", 1, 1))
    bad = as_csv([r for r in BASE if r[3] != "12"])
    write_landing(data_paths, {f"{SWANSEA}/jan.csv": monthly, NAME: bad})
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [f"{SWANSEA}/jan.csv"] and list(result.rejected) == [NAME]


def test_a_resubmitted_assessment_is_a_new_version_and_both_are_kept(data_paths, reference):
    write_landing(data_paths, {NAME: GOOD})
    collect_submissions(data_paths, reference, NOW)
    corrected = as_csv(assessment_rows(results={**RESULTS, 11: "met"}))
    write_landing(data_paths, {NAME.replace(".csv", "-v2.csv"): corrected})
    collect_submissions(data_paths, reference, NOW)
    rows = loaded(data_paths)
    assert len(rows) == 24 and {r[0] for r in rows} == {1, 2}
    assert [r[7] for r in rows if r[6] == 11] == ["not_met", "met"]  # both versions kept


def test_an_assessment_never_takes_the_monthly_fast_path_and_a_monthly_file_stays_monthly():
    assert plain_rows_text(NAME, GOOD) is None
    monthly = submission(row(CARDIFF, "2026-01", TAX, 10, 5, "yes", "no", 1, 1))
    assert plain_rows_text("jan.csv", monthly) is not None
    assert not isinstance(parse_submission("jan.csv", monthly, CARDIFF), AssessmentFile)


def test_title_rows_and_a_header_with_notes_are_read_as_for_a_monthly_return():
    header = ("Body code", "Service code", "Assessed on (YYYY-MM-DD)", "Standard (1-12)", "Result")
    data = b"Digital Service Standard assessment\n\n" + as_csv(BASE, header)
    parsed, problems = check(data)
    assert problems == [] and [r["_row"] for r in parsed.rows] == [str(n) for n in range(4, 16)]


def test_a_workbook_s_date_cells_keep_their_day(data_paths, reference):
    book = Workbook()
    sheet = book.active
    sheet.title = "Assessment"
    sheet.append(list(ASSESSMENT_COLUMNS))
    for body, service, _, standard, result in BASE:
        sheet.append([body, service, datetime(2025, 6, 30), int(standard), result.title()])
    out = io.BytesIO()
    book.save(out)
    name = NAME.replace(".csv", ".xlsx")
    write_landing(data_paths, {name: out.getvalue()})
    result = collect_submissions(data_paths, reference, NOW)
    assert result.accepted == [name]
    assert {(r[5], r[6], r[7]) for r in loaded(data_paths)} == {
        (date(2025, 6, 30), n, RESULTS[n]) for n in range(1, 13)
    }


def test_the_check_command_checks_an_assessment_as_the_pipeline_does(tmp_path, capsys):
    from dagster_project.collect.cli import main

    good = tmp_path / "assessment.csv"
    good.write_bytes(GOOD)
    assert main(["validate", str(good), "--body", CARDIFF]) == 0
    out = capsys.readouterr().out
    assert f"{good}: valid, would be loaded (12 rows ready to send)." in out
    assert "An assessment return has no due date" in out and "by 20" not in out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(as_csv(_replace(BASE, 0, "standard", "0")))
    assert main(["validate", str(bad), "--body", CARDIFF]) == 1
    out = capsys.readouterr().out
    assert "row 2, column 'standard': found '0'" in out
    assert "rhes 2, colofn 'standard': canfuwyd '0'" in out


# Any file built from these cells: mostly valid assessments, some with a broken cell, a
# missing or repeated standard, another body or a date in the future.
CELLS = {
    "body_code": st.sampled_from([CARDIFF, CARDIFF, CARDIFF, SWANSEA, "", "W0600001"]),
    "service_code": st.sampled_from([PARKING, PARKING, TAX, "la_nothing"]),
    "assessed_on": st.sampled_from([DAY, DAY, "2024-01-15", "2026-03-02", "2025-13-01", ""]),
    "result": st.sampled_from(["met", "Partly met", "not-met", "NOT_MET", "partial", ""]),
}


@st.composite
def assessment_files(draw) -> bytes:
    rows = []
    for _ in range(draw(st.integers(1, 2))):  # one or two assessments in a file
        service = draw(st.sampled_from([PARKING, TAX]))
        day = draw(st.sampled_from([DAY, "2024-01-15"]))
        standards = list(range(1, 13))
        if draw(st.integers(0, 3)) == 0:  # a standard missing, repeated or out of range
            standards = draw(st.lists(st.integers(0, 13), min_size=1, max_size=14))
        for standard in standards:
            cells = [
                CARDIFF,
                service,
                day,
                str(standard),
                draw(st.sampled_from(list(RESULTS.values()))),
            ]
            if draw(st.integers(0, 30)) == 0:  # now and then, one cell broken
                column = draw(st.sampled_from(sorted(CELLS)))
                cells[ASSESSMENT_COLUMNS.index(column)] = draw(CELLS[column])
            rows.append(cells)
    return as_csv(rows)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.lists(assessment_files(), min_size=1, max_size=3))
def test_accepted_rows_are_exactly_the_parsed_rows_and_a_rejected_file_changes_nothing(
    data, reference
):
    root = Path(tempfile.mkdtemp(prefix="assessments-"))
    try:
        paths = DataPaths(root).ensure()
        landing = {f"{CARDIFF}/assessment-{i}.csv": d for i, d in enumerate(data)}
        write_landing(paths, landing)
        result = collect_submissions(paths, reference, NOW)
        rows = loaded(paths)
        recorded = {name: (seq, status) for seq, name, status, *_ in files(paths)}
        for name, d in landing.items():
            if name in result.skipped:  # the same bytes twice: one submission
                assert name not in recorded
                continue
            seq, status = recorded[name]
            mine = [r[2:] for r in rows if r[0] == seq]
            parsed, problems = check(d, name=name)
            if status == "rejected":
                assert mine == [] and any(p.severity == "error" for p in problems)
                continue
            assert problems == []
            assert mine == [
                (
                    int(r["_row"]),
                    r["body_code"],
                    r["service_code"],
                    date.fromisoformat(r["assessed_on"]),
                    int(r["standard"]),
                    r["result"],
                )
                for r in parsed.rows
            ]
        assert len(rows) == result.assessment_rows_loaded
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_submissions_asset_loads_an_assessment_and_says_how_many_rows(data_paths):
    import dagster as dg

    from dagster_project.collect.assets import submissions
    from dagster_project.resources import PlatformSettings, build_resources

    write_landing(data_paths, {NAME: GOOD})
    result = dg.materialize(
        [submissions],
        partition_key="2026-02-01",
        resources=build_resources(PlatformSettings(data_root=str(data_paths.root))),
    )
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert (metadata["files_accepted"].value, metadata["assessment_rows_loaded"].value) == (1, 12)
    assert metadata["rows_loaded"].value == 0
    assert len(loaded(data_paths)) == 12
