"""Reports on a submission as a body reads them: repeated problems once with their rows, counts
in correct English and Welsh, the row's service code, what to do next and by when, and every
word on the Welsh side Welsh. The JSON keeps every problem row by row for programs."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from dagster_project.catalogue import pairs, strings
from dagster_project.collect.feedback import group_problems, report, text_report
from dagster_project.collect.load import collect_submissions
from dagster_project.collect.rules import Problem, location, row_ranges
from dagster_project.collect.validate import ParsedFile, parse_submission, validate_files
from tests.conftest import CARDIFF, PARKING, SWANSEA, TAX, row, submission, write_landing

NOW = datetime(2026, 3, 1, 9, 0)
GOOD = row(CARDIFF, "2026-01", TAX, 1000, 600, "yes", "no", 400, 600)


# Rows as runs --------------------------------------------------------------------------------


def test_runs_of_consecutive_rows_are_collapsed():
    assert row_ranges([2, 3, 4, 5, 8, 10, 11, 12, 13]) == "2\u20135, 8, 10\u201313"
    assert row_ranges([13, 2, 3, 2]) == "2\u20133, 13"
    assert row_ranges([7]) == "7"
    assert location([2, 3, 4], "body_code", "en") == "rows 2\u20134, column 'body_code'"
    assert location([2, 3, 4], "body_code", "cy") == "rhesi 2\u20134, colofn 'body_code'"
    assert location([9], "", "en") == "row 9" and location([9], "", "cy") == "rhes 9"
    assert location([0], "", "cy") == "y ffeil gyfan"


def _expand(ranges: str) -> set[int]:
    rows: set[int] = set()
    for run in ranges.split(", "):
        first, _, last = run.partition("\u2013")
        rows |= set(range(int(first), int(last or first) + 1))
    return rows


@given(st.sets(st.integers(min_value=1, max_value=400), min_size=1))
def test_row_ranges_name_exactly_the_rows_given(rows):
    assert _expand(row_ranges(rows)) == rows


PROBLEMS = st.lists(
    st.builds(
        Problem,
        file=st.just("f.csv"),
        row=st.integers(min_value=0, max_value=40),
        column=st.sampled_from(["", "body_code", "period"]),
        value=st.sampled_from(["", "x", "W06000015"]),
        rule=st.sampled_from(["wrong_body", "period_format", "totals_row_ignored", "required"]),
        detail=st.sampled_from(["", "W06000011"]),
        service_code=st.sampled_from(["", TAX, PARKING]),
    ),
    max_size=60,
)


@settings(max_examples=300)
@given(PROBLEMS)
def test_grouping_never_loses_or_invents_a_row(problems):
    groups = group_problems(problems)
    assert sum(g.count for g in groups) == len(problems)
    for rule in {p.rule for p in problems}:
        listed = {(r, g.problem.column) for g in groups if g.problem.rule == rule for r in g.rows}
        found = {(p.row, p.column) for p in problems if p.rule == rule}
        assert listed == found
    for group in groups:  # a group is one problem: only the row and service code vary
        members = [p for p in problems if p.row in group.rows and _same(p, group.problem)]
        assert {p.service_code for p in members if p.service_code} == set(group.service_codes)
        assert all(row == 0 for row in group.rows) or 0 not in group.rows


def _same(a: Problem, b: Problem) -> bool:
    return (a.rule, a.column, a.value, a.detail, bool(a.row)) == (
        b.rule,
        b.column,
        b.value,
        b.detail,
        bool(b.row),
    )


# One report, worked by hand ------------------------------------------------------------------

# Swansea's folder, Cardiff's figures on rows 2-5, 8, 10-13 (12 rows) and a different error
# on rows 6, 7 and 9: online above total.
SERVICES = [f"svc_{n}" for n in range(12)]


def _swansea_sends_cardiffs_figures() -> tuple[ParsedFile, list[Problem]]:
    rows = []
    for number in range(2, 14):
        over = number in (6, 7, 9)
        body = SWANSEA if over else CARDIFF
        rows.append({**GOOD, "body_code": body, "transactions_online": 2000 if over else 600})
    parsed = parse_submission("jan.csv", submission(*rows), sender=SWANSEA)
    # Real service codes would be reported as unknown here too; keep the example to two rules.
    found = [
        Problem("jan.csv", n, "body_code", CARDIFF, "wrong_body", SWANSEA, TAX)
        for n in (2, 3, 4, 5, 8, 10, 11, 12, 13)
    ] + [
        Problem("jan.csv", n, "transactions_online", "2000", "online_not_above_total", "1000", TAX)
        for n in (6, 7, 9)
    ]
    return parsed, sorted(found)


def test_a_report_lists_a_repeated_problem_once_with_its_rows_in_both_languages():
    parsed, found = _swansea_sends_cardiffs_figures()
    content = report(parsed, found, "2026-03-01T09:00:00")
    text = text_report(content, found)
    assert (
        "[error] jan.csv: rows 2\u20135, 8, 10\u201313, column 'body_code': found 'W06000015'; "
        "expected figures about W06000011 only, the body that sent them [wrong_body]"
    ) in text
    assert (
        "[gwall] jan.csv: rhesi 2\u20135, 8, 10\u201313, colofn 'body_code': canfuwyd "
        "'W06000015'; disgwyliwyd ffigurau am W06000011 yn unig, y corff a'u hanfonodd "
        "[wrong_body]"
    ) in text
    assert "jan.csv: rows 6\u20137, 9, column 'transactions_online': found '2000'" in text
    assert text.count("[wrong_body]") == 2  # once a language, not 9 times
    assert f"    Service code: '{TAX}'" in text and f"    Cod gwasanaeth: '{TAX}'" in text
    # The JSON: every problem row by row for programs, the groups as people read them.
    assert [p["row"] for p in content["problems"]] == list(range(2, 14))
    assert all(p["service_code"] == TAX for p in content["problems"])
    assert [(g["rule"], g["rows"], g["rows_text"], g["count"]) for g in content["groups"]] == [
        ("wrong_body", [2, 3, 4, 5, 8, 10, 11, 12, 13], "2\u20135, 8, 10\u201313", 9),
        ("online_not_above_total", [6, 7, 9], "6\u20137, 9", 3),
    ]


def test_counts_are_plural_in_english_and_read_for_any_number_in_welsh():
    parsed, found = _swansea_sends_cardiffs_figures()
    one = report(parsed, found[:1], "")
    assert one["summary_en"].startswith("1 error and 0 warnings found.")
    assert one["summary_cy"].startswith("Canfuwyd problemau (gwallau: 1, rhybuddion: 0).")
    twelve = report(parsed, found, "")
    assert twelve["summary_en"].startswith("12 errors and 0 warnings found.")
    assert twelve["summary_cy"].startswith("Canfuwyd problemau (gwallau: 12, rhybuddion: 0).")
    warned = [Problem("f.csv", 5, "", "", "totals_row_ignored")]
    content = report(ParsedFile("f.csv", "h"), warned, "")
    assert content["summary_en"].startswith("The file was loaded with 1 warning:")
    assert content["summary_cy"].startswith("Llwythwyd y ffeil (rhybuddion: 1):")
    for value in (content, twelve):
        assert "(s)" not in json.dumps(value)


def test_what_next_says_where_to_resend_and_by_when():
    # January's return is due on 15 February (dbt var return_due_day: 15).
    parsed, found = _swansea_sends_cardiffs_figures()
    content = report(parsed, found, "")
    assert content["due"] == [{"period": "2026-01", "due": "2026-02-15"}]
    assert content["next_en"] == (
        "What next: correct the file and send the whole corrected file again, to "
        "landing/W06000011/ or through your API endpoint, by 2026-02-15 for 2026-01 (a return "
        "is due by day 15 of the month after the month it reports)."
    )
    assert content["next_cy"].startswith("Beth nesaf: cywirwch y ffeil ac anfonwch y ffeil gyfan")
    assert "landing/W06000011/" in content["next_cy"] and "2026-02-15 ar gyfer 2026-01" in (
        content["next_cy"]
    )
    # December's return is due in January of the next year; unknown body: a placeholder folder.
    december = parse_submission("dec.csv", submission({**GOOD, "period": "2025-12"}))
    content = report(december, found, "")
    assert content["due"] == [{"period": "2025-12", "due": "2026-01-15"}]
    assert "landing/<your body code>/" in content["next_en"]
    assert "landing/<cod eich corff>/" in content["next_cy"]
    # A file whose months cannot be read: the rule, not a date.
    unreadable = ParsedFile("x.pdf", "h", problems=[Problem("x.pdf", 0, "", "pdf", "encoding")])
    content = report(unreadable, unreadable.problems, "")
    assert content["next_en"].endswith(
        "by day 15 of the month after the month the return reports."
    )


def test_a_dry_run_says_would_be_loaded_never_not_loaded():
    parsed, found = _swansea_sends_cardiffs_figures()
    bad = report(parsed, found, "", dry_run=True)
    assert (bad["verdict_en"], bad["verdict_cy"]) == (
        "would not be loaded",
        "ni fyddai'n cael ei llwytho",
    )
    warned = [Problem("f.csv", 5, "", "", "totals_row_ignored")]
    fine = report(ParsedFile("f.csv", "h"), warned, "", dry_run=True)
    assert fine["verdict_en"] == "would be loaded, with warnings"
    assert "Check of f.csv: would be loaded, with warnings." in text_report(fine, warned)
    assert "not loaded" not in json.dumps(fine)


# A quarantined file's reports, from a real collection run ------------------------------------


def _english_phrases() -> list[str]:
    """The English wording of reports and rules, cut at placeholders, that is not also
    Welsh: what must never show on the Welsh side."""
    welsh = json.dumps([strings("cy", s) for s in ("reports", "rules")], ensure_ascii=False)
    found = []
    for key, pair in pairs():
        if not key.startswith(("reports.", "rules.")) or not isinstance(pair["en"], str):
            continue
        for fragment in re.split(r"\{[^}]*\}", pair["en"]):
            fragment = fragment.strip(" .,:;()'")
            if len(fragment.split()) >= 2 and fragment not in welsh:
                found.append(fragment)
    return found


def _quarantined(data_paths, reference) -> dict[str, str]:
    bad = [
        {**GOOD, "body_code": SWANSEA, "service_code": "la_parkng_permit"},
        {**GOOD, "body_code": SWANSEA, "transactions_online": 1600, "service_code": PARKING},
        {**GOOD, "body_code": SWANSEA, "letters_posted": "lots"},
    ]
    write_landing(data_paths, {f"{SWANSEA}/jan.csv": submission(*bad)})
    result = collect_submissions(data_paths, reference, NOW)
    assert list(result.rejected) == [f"{SWANSEA}/jan.csv"]
    base = data_paths.quarantine / f"{SWANSEA}__jan.csv"
    return {
        kind: base.with_name(f"{base.name}.report.{kind}").read_text(encoding="utf-8")
        for kind in ("json", "html", "txt")
    }


def test_a_quarantine_report_shows_each_rows_service_code_and_what_next(data_paths, reference):
    reports = _quarantined(data_paths, reference)
    content = json.loads(reports["json"])
    assert [(p["row"], p["rule"], p["service_code"]) for p in content["problems"]] == [
        (2, "known_service", "la_parkng_permit"),
        (3, "online_not_above_total", PARKING),
        (4, "whole_number", TAX),
    ]
    [unknown] = [p for p in content["problems"] if p["rule"] == "known_service"]
    assert unknown["nearest"][0] == PARKING
    assert f"Did you mean '{PARKING}'" in unknown["expected_en"]
    for kind in ("html", "txt"):
        for service in ("la_parkng_permit", PARKING, TAX):
            assert service in reports[kind], (kind, service)
        assert "What next: correct the file" in reports[kind]
        assert "Beth nesaf: cywirwch y ffeil" in reports[kind]
        assert f"landing/{SWANSEA}/" in reports[kind] and "2026-02-15" in reports[kind]


def test_the_welsh_side_of_every_report_has_no_english_left(data_paths, reference):
    reports = _quarantined(data_paths, reference)
    welsh_text = reports["txt"].split("Cyflwyniad ", 1)[1]
    welsh_html = reports["html"].split('<section lang="cy"', 1)[1]
    content = json.loads(reports["json"])
    welsh_json = json.dumps(
        [content["summary_cy"], content["next_cy"], content["verdict_cy"]]
        + [p[k] for p in content["problems"] for k in ("expected_cy", "fix_cy")],
        ensure_ascii=False,
    )
    phrases = _english_phrases()
    assert len(phrases) > 50
    for side in (welsh_text, welsh_html, welsh_json):
        assert [p for p in phrases if p in side] == []
        assert not re.search(r"\b(rows?|column|found|expected|How to fix|What next)\b", side)


def test_the_quarantine_report_page_passes_axe_and_marks_the_welsh(data_paths, reference):
    from tests.browser import audit, require_chromium, serve

    require_chromium()
    reports = _quarantined(data_paths, reference)
    assert '<section lang="cy"' in reports["html"]
    with serve(data_paths.quarantine) as base:
        page = audit(f"{base}/{SWANSEA}__jan.csv.report.html")
    assert page.violations == [], page.describe()
    assert page.console_errors == [] and page.lang == "en"
    assert 'lang="cy"' in page.html


def test_validate_files_and_report_agree_on_a_clean_file():
    parsed = parse_submission("f.csv", submission(GOOD))
    problems = validate_files([parsed], _reference(), date(2026, 3, 15))["f.csv"]
    content = report(parsed, problems, "", dry_run=True, body=CARDIFF)
    assert (content["status"], content["verdict_en"], content["groups"]) == (
        "accepted",
        "would be loaded",
        [],
    )
    assert content["next_en"].startswith(f"What next: send the file to landing/{CARDIFF}/")


def _reference():
    from dagster_project.reference import load_reference

    return load_reference()
