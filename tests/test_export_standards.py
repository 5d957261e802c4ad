"""A body's extract shows the measures it did not report as "not reported" (never 0) and its
services against the Digital Service Standard: each service's assessment and, for a current
one, its 12 results by group, names in the page's language. Rendered from a hand-made extract,
read back as a reader would: the page's text and the workbook's cells."""

from __future__ import annotations

import io
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from openpyxl import load_workbook

from dagster_project.reference import load_reference
from exports.extracts import (
    BENCHMARK_COLUMNS,
    PROGRESS_COLUMNS,
    SUMMARY_COLUMNS,
    BodyExtract,
    extract_files,
    extract_page,
    extract_workbook,
)
from tests.conftest import CARDIFF, PARKING, TAX

REFERENCE = load_reference()
INDICATORS = {i["indicator_code"]: i for i in REFERENCE.indicators}
SECTORS = {language: REFERENCE.sector_names(language) for language in ("en", "cy")}
# Tax's assessment of 12 March 2026: standards 1-9 met, 10 and 11 partly met, 12 not met.
RESULTS = {n: "met" for n in range(1, 10)} | {10: "partly_met", 11: "partly_met", 12: "not_met"}
HOSTILE = "<script>alert(1)</script>=SUM(A1)"


def indicator_row(code: str, value: float | None) -> dict:
    i = INDICATORS[code]
    row = dict.fromkeys((*BENCHMARK_COLUMNS, *PROGRESS_COLUMNS))
    row.update(
        indicator_code=code,
        indicator_name_en=i["name_en"],
        indicator_name_cy=i["name_cy"],
        unit=i["unit"],
        polarity=i["polarity"],
        value=value,
        sector_quartile_note="fewer than 4 ranked bodies",
    )
    return row


def extract() -> BodyExtract:
    summary = dict.fromkeys(SUMMARY_COLUMNS)
    summary.update(
        body_code=CARDIFF,
        name_en="Cardiff Council",
        name_cy="Cyngor Caerdydd",
        sector="local_authority",
        period="2026-02",
        population=372089,
        coverage=0.5,
        ranking_status="insufficient data",
        services_expected=2,
        services_assessed=1,
        services_assessed_share=0.5,
    )
    standards = [
        {
            "body_code": CARDIFF,
            "service_code": TAX,
            "service_name_en": "Council tax " + HOSTILE,
            "service_name_cy": "Treth gyngor " + HOSTILE,
            "assessed_on": date(2026, 3, 12),
            "assessment_status": "current",
            "standards_met": 9,
            "standards_partly_met": 2,
            "standards_not_met": 1,
            "standards_met_share": 0.75,
        },
        {
            "body_code": CARDIFF,
            "service_code": PARKING,
            "service_name_en": "Parking permit",
            "service_name_cy": "Trwydded barcio",
            "assessed_on": None,
            "assessment_status": "not_assessed",
            "standards_met": None,
            "standards_partly_met": None,
            "standards_not_met": None,
            "standards_met_share": None,
        },
    ]
    results = [
        {"body_code": CARDIFF, "service_code": TAX, "standard": n, "result": r}
        for n, r in RESULTS.items()
    ]
    return BodyExtract(
        summary,
        [indicator_row("online_take_up", 0.6), indicator_row("completion_rate", None)],
        [],
        [],
        [],
        standards,
        results,
    )


def page(language: str) -> str:
    files = extract_files(CARDIFF)
    return extract_page(extract(), language, INDICATORS, SECTORS[language], files)


NOT_REPORTED = {"en": "not reported", "cy": "heb ei adrodd"}


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_measure_not_reported_is_said_so_on_the_page_never_zero(language):
    html = page(language)
    name = INDICATORS["completion_rate"][f"name_{language}"]
    row = html.split(f'<th scope="row">{name}</th>', 1)[1].split("</tr>", 1)[0]
    assert f'<td class="number">{NOT_REPORTED[language]}</td>' in row
    assert "0.0%" not in row


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_measure_not_reported_is_words_in_the_workbook_not_a_zero(language):
    workbook = load_workbook(
        io.BytesIO(extract_workbook(extract(), language, INDICATORS, SECTORS[language]))
    )
    sheet = workbook.worksheets[1]
    values = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=2)}
    assert values[INDICATORS["completion_rate"][f"name_{language}"]] == NOT_REPORTED[language]
    assert values[INDICATORS["online_take_up"][f"name_{language}"]] == 0.6


@pytest.mark.parametrize("language", ["en", "cy"])
def test_the_page_lists_each_service_and_the_12_results_of_a_current_assessment(language):
    html = page(language)
    section = html.split('<section id="standards"', 1)[1].split("</section>", 1)[0]
    expected_sentence = {
        "en": "1 of 2 expected services have a current assessment (50.0%).",
        "cy": "Mae gan 1 o 2 gwasanaeth disgwyliedig asesiad cyfredol (50.0%).",
    }
    assert expected_sentence[language] in section
    assert {"en": "not assessed", "cy": "heb ei asesu"}[language] in section
    assert {"en": "12 March 2026", "cy": "12 Mawrth 2026"}[language] in section
    # The three groups, in order, each heading its standards by number and name.
    groups = [g[1] for g in REFERENCE.standard_groups(language)]
    places = [section.index(f'<th scope="colgroup" colspan="2">{escape(g)}</th>') for g in groups]
    assert places == sorted(places) and len(groups) == 3
    met, partly, not_met = (
        {"en": "met", "cy": "wedi&#39;i bodloni"}[language],
        {"en": "partly met", "cy": "wedi&#39;i bodloni&#39;n rhannol"}[language],
        {"en": "not met", "cy": "heb ei bodloni"}[language],
    )
    for s in REFERENCE.standards:
        n = int(s["standard"])
        name = escape(s[f"name_{language}"])
        word = {"met": met, "partly_met": partly, "not_met": not_met}[RESULTS[n]]
        assert f'<tr><th scope="row">{n}. {name}</th><td>{word}</td></tr>' in section
    # 9 of 12 met, as a count and a share
    assert '<td class="number">9</td><td class="number">75.0%</td>' in section


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_service_name_never_becomes_markup(language):
    html = page(language)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;=SUM(A1)" in html


@pytest.mark.parametrize("language", ["en", "cy"])
def test_the_workbook_has_a_service_standard_sheet_with_the_12_results(language):
    data = extract_workbook(extract(), language, INDICATORS, SECTORS[language])
    sheet = load_workbook(io.BytesIO(data)).worksheets[-1]
    rows = list(sheet.iter_rows(values_only=True))
    header, tax, parking = rows
    assert header[8:] == tuple(
        f"{s['standard']}. {s[f'name_{language}']}" for s in REFERENCE.standards
    )
    assert tax[1] == TAX and tax[4:8] == (9, 2, 1, 0.75)
    assert tax[8:] == tuple(
        {
            "en": {"met": "met", "partly_met": "partly met", "not_met": "not met"},
            "cy": {
                "met": "wedi'i bodloni",
                "partly_met": "wedi'i bodloni'n rhannol",
                "not_met": "heb ei bodloni",
            },
        }[language][RESULTS[n]]
        for n in range(1, 13)
    )
    # a submitted name that looks like a formula stays text
    assert sheet.cell(2, 1).data_type == "s"
    assert parking[2] == {"en": "not assessed", "cy": "heb ei asesu"}[language]
    assert parking[4:] == (None,) * (len(parking) - 4)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["met", "partly_met", "not_met"]), min_size=12, max_size=12))
def test_every_result_is_shown_once_under_its_standard(results):
    """Whatever the 12 results, the page and the workbook show each under its own standard."""
    base = extract()
    rows = [
        {"body_code": CARDIFF, "service_code": TAX, "standard": n, "result": r}
        for n, r in enumerate(results, start=1)
    ]
    body = BodyExtract(
        *[getattr(base, f) for f in ("summary", "indicators", "services")],
        base.trend,
        base.returns,
        base.standards,
        rows,
    )
    html = extract_page(body, "en", INDICATORS, SECTORS["en"], extract_files(CARDIFF))
    words = {"met": "met", "partly_met": "partly met", "not_met": "not met"}
    for s, result in zip(REFERENCE.standards, results, strict=True):
        name = escape(s["name_en"])
        assert f'<th scope="row">{s["standard"]}. {name}</th><td>{words[result]}</td>' in html
    sheet = load_workbook(
        io.BytesIO(extract_workbook(body, "en", INDICATORS, SECTORS["en"]))
    ).worksheets[-1]
    assert [c.value for c in sheet[2]][8:] == [words[r] for r in results]
