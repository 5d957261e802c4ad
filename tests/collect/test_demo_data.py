"""The demo generator: deterministic, covers the register, carries exactly its planted errors."""

from datetime import date

from dagster_project.collect.demo_data import SILENT_BODY, demo_submissions, month_list
from dagster_project.collect.validate import parse_submission, validate_files


def test_month_list_crosses_years():
    assert month_list("2026-02", 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_same_arguments_same_bytes(reference):
    assert demo_submissions(reference, months=12) == demo_submissions(reference, months=12)


def test_every_body_but_one_reports_and_only_planted_errors_fail(reference):
    files = demo_submissions(reference)
    reporting = {name.split("/")[0] for name in files}
    assert reporting == {b["body_code"] for b in reference.bodies} - {SILENT_BODY}
    parsed = [parse_submission(name, data) for name, data in files.items()]
    problems = validate_files(parsed, reference, date(2026, 11, 25))
    rejected = {
        name: {p.rule for p in found}
        for name, found in problems.items()
        if any(p.severity == "error" for p in found)
    }
    warned = {
        name: {p.rule for p in found}
        for name, found in problems.items()
        if found and name not in rejected
    }
    assert warned == {"W06000011/W06000011_2026-09.csv": {"totals_row_ignored"}}
    assert sum(name.endswith(".xlsx") for name in files) == 3
    planted = {"online_not_above_total", "period_format", "known_service"}
    assert len(rejected) == 3
    assert sorted(min(rules & planted) for rules in rejected.values()) == sorted(planted)
    assert sum(name.endswith("_v2.csv") for name in files) == 1
