"""A benchmark extract for every registered body: a self-contained HTML page (charts inline) and
an XLSX workbook in each of English and Welsh, with the same sections in both, and two CSV files
for programs. Each holds the body's own service-level figures and, for its peers, only published
sector medians and quartiles.

The CSVs keep stable snake_case column names and plain values in both languages (their names
columns carry both languages): a program reading them must not depend on the reader's language.
The workbooks are for people: headers, sheet names and words in their language, numbers and
dates as typed cells with formats, a frozen header row and filters. Every word comes from the
catalogue (`dagster_project/catalogue/extracts.yaml`); names from the reference data."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from itertools import groupby, islice
from operator import itemgetter
from pathlib import Path

import duckdb
from jinja2 import Template
from markupsafe import Markup, escape

from dagster_project.catalogue import LANGUAGES, strings
from dagster_project.reference import Reference, load_reference
from exports.cells import Cell, Sheet, format_rows, spreadsheet_value, workbook_bytes, write_csv
from exports.charts import benchmark_bar, trend_line
from exports.evidence import rank_labels
from exports.open_data import ASSESSMENT_COLUMNS, SCORE_COLUMNS, column_decimals, indicator_codes
from exports.release import carry_file, rows_digest_sql, schema_of, sources_fingerprint
from exports.templating import template_environment

# From body_benchmarks (the body beside its sector), then from indicator_progress (its path).
BENCHMARK_COLUMNS = (
    "indicator_code",
    "indicator_name_en",
    "indicator_name_cy",
    "unit",
    "polarity",
    "value",
    "sector_lower_quartile",
    "sector_median",
    "sector_upper_quartile",
    "sector_bodies_with_value",
    "sector_quartile",
    "sector_quartile_note",
)
PROGRESS_COLUMNS = (
    "pace",
    "direction",
    "target_value",
    "target_period",
    "target_status",
    "required_change_per_year",
    "projected_month",
    "status",
)
INDICATOR_COLUMNS = BENCHMARK_COLUMNS + PROGRESS_COLUMNS
FIGURES_FROM = INDICATOR_COLUMNS.index("value")  # before it: the indicator and its names
MEASURES = (
    "value",
    "sector_lower_quartile",
    "sector_median",
    "sector_upper_quartile",
    "target_value",
    "required_change_per_year",
)
SERVICE_COLUMNS = (
    "period",
    "service_code",
    "service_name_en",
    "service_name_cy",
    "transactions_total",
    "transactions_online",
    "online_take_up",
    "available_online",
    "digital_by_default",
    "letters_posted",
    "digital_notifications",
    "online_started",
    "satisfaction_responses",
    "satisfied_responses",
    "cost_total",
    "transactions_online_welsh",
    "revised",
)


def trend_columns(indicators: list[dict]) -> tuple[str, ...]:
    """A body's monthly indicators: one column per indicator the dictionary publishes."""
    return ("period", *indicator_codes(indicators), "status")


PERIOD = re.compile(r"[0-9]{4}-[0-9]{2}")
RETURN_COLUMNS = ("period", "due_date", "status", "first_received_at", "versions", "rejected_files")
SUMMARY_COLUMNS = (
    "body_code",
    "name_en",
    "name_cy",
    "sector",
    "period",
    "population",
    "coverage",
    "ranking_status",
    *SCORE_COLUMNS,
    *ASSESSMENT_COLUMNS,
)
# Each of the body's services against the Digital Service Standard, and the 12 results of each
# current assessment.
STANDARDS_COLUMNS = (
    "service_code",
    "service_name_en",
    "service_name_cy",
    "assessed_on",
    "assessment_status",
    "standards_met",
    "standards_partly_met",
    "standards_not_met",
    "standards_met_share",
)
STANDARD_RESULT_COLUMNS = ("service_code", "standard", "result")


# What an extract is made of, per body: each query's rows (unordered) and the order they are
# shown in. The same queries give the rows rendered and the fingerprint that says whether a body
# must be rendered again, so that nothing an extract shows escapes its fingerprint.
def extract_queries(indicators: list[dict]) -> dict[str, tuple[str, str]]:
    """Each part of an extract: name -> (query, order); the trend's columns from the dictionary."""
    return {
        "summary": (f"select {', '.join(SUMMARY_COLUMNS)} from marts.league_table", "body_code"),
        "indicators": (
            f"""select b.body_code, {", ".join("b." + c for c in BENCHMARK_COLUMNS)},
                {", ".join("p." + c for c in PROGRESS_COLUMNS)}
            from marts.body_benchmarks b
            join marts.indicator_progress p using (body_code, indicator_code)""",
            "body_code, indicator_code",
        ),
        # The body's own rows only, over the headline window.
        "services": (
            f"""select s.body_code, {", ".join("s." + c for c in SERVICE_COLUMNS)}
            from marts.service_figures s, intermediate.int_publication_window w
            where s.period_month between w.window_start and w.publication_month""",
            "body_code, period, service_code",
        ),
        "trend": (
            f"select body_code, {', '.join(trend_columns(indicators))} "
            "from marts.indicators_monthly",
            "body_code, period",
        ),
        "returns": (
            f"""select body_code, {", ".join(RETURN_COLUMNS)} from marts.submission_returns
            where status <> 'on_time'""",
            "body_code, period",
        ),
        "standards": (
            f"""select s.body_code, {", ".join(STANDARDS_COLUMNS)}
            from marts.service_standards s
            join (select service_code, name_en as service_name_en, name_cy as service_name_cy
                from reference.services) c using (service_code)""",
            "body_code, service_code",
        ),
        "standard_results": (
            f"select body_code, {', '.join(STANDARD_RESULT_COLUMNS)} "
            "from marts.service_standard_results",
            "body_code, service_code, standard",
        ),
    }


QUERIES = extract_queries(load_reference().indicators)


# How a workbook shows each kind of figure. Shares are percentages; rates take the decimals the
# indicator dictionary publishes them at; months and dates are real dates, not text.
PERCENT = "0.0%"
SIGNED_PERCENT = "+0.0%;-0.0%;0.0%"
SIGNED_POINTS = "+0.0;-0.0;0.0"
COUNT = "#,##0"
SCORE = "0.0"
SIGNED_SCORE = "+0.0;-0.0;0.0"
MONTH = "yyyy-mm"
DATE = "yyyy-mm-dd"
TIMESTAMP = "yyyy-mm-dd hh:mm"
WHOLE = "0"


def measure_format(unit: str, decimals: int) -> str:
    """An indicator's number format: a share as 0.0%, a rate with the dictionary's decimals."""
    if unit == "fraction":
        return PERCENT
    pounds = "£" if unit.startswith("pounds") else ""
    return pounds + COUNT + ("." + "0" * decimals if decimals else "")


@cache  # a handful of months, asked for once a cell
def month_date(period: str | None) -> date | None:
    """'2026-02' -> 1 February 2026, so that a spreadsheet sorts and filters it as a date."""
    if not period or not PERIOD.fullmatch(period):
        return None
    return date(int(period[:4]), int(period[5:7]), 1)


class Words:
    """Figures and codes in one language's words, for the page and the workbook alike: month
    names, yes/no, statuses (from the catalogue) and numbers with their units."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.t = strings(language, "extracts")
        self.values = strings(language, "pages")["values"]
        self.standards = strings(language, "pages")["standards"]
        self._months: dict[str | None, str] = {}

    def value(self, code: str | None) -> str | None:
        """A status code ('on_track', 'fewer than 4 ranked bodies') in words."""
        return None if code is None else self.values.get(code, code.replace("_", " "))

    def result(self, code: str | None) -> str:
        """A standard's result ('partly_met') in words; a dash when there is none."""
        return "–" if code is None else self.standards["results"].get(code, code)

    def assessment(self, status: str, assessed_on: date | None) -> str:
        """'current (12 March 2026)', 'expired (over 24 months old)' or 'not assessed'."""
        words = self.standards["statuses"].get(status, status)
        return (
            f"{words} ({self.day(assessed_on)})" if assessed_on and status == "current" else words
        )

    def flag(self, value: bool | None) -> str | None:
        return None if value is None else self.t["flag_yes" if value else "flag_no"]

    def month(self, period: str | None) -> str:
        """'2026-02' -> 'February 2026' (Welsh 'Chwefror 2026'); a word for any other value."""
        if period not in self._months:
            self._months[period] = self._month(period)
        return self._months[period]

    def _month(self, period: str | None) -> str:
        day = month_date(period)
        if day is None:
            return self.value(period) or "–"
        return self.t["month_year"].format(month=self.t["months"][str(day.month)], year=day.year)

    def day(self, value: date | None) -> str:
        if value is None:
            return "–"
        month = self.t["months"][str(value.month)]
        return self.t["day_month_year"].format(day=value.day, month=month, year=value.year)

    def timestamp(self, value: datetime | None) -> str:
        if value is None:
            return "–"
        value = spreadsheet_value(value)  # in UTC
        month = self.t["months"][str(value.month)]
        return self.t["timestamp"].format(
            day=value.day, month=month, year=value.year, time=value.strftime("%H:%M")
        )

    def measure(self, value: float | None, unit: str) -> str:
        """48.1% for a share, £3.47 for pounds, 1,234.5 for a rate, – for no value."""
        if value is None:
            return "–"
        if unit == "fraction":
            return f"{value * 100:.1f}%"
        return f"£{value:,.2f}" if unit.startswith("pounds") else f"{value:,.1f}"

    def pace(self, value: float | None, unit: str) -> str:
        """A share's change in percentage points (as `change`), any other's in per cent."""
        if value is None or unit == "fraction":
            return self.change(value, unit)
        return f"{value * 100:+.1f}%"

    def change(self, value: float | None, unit: str) -> str:
        """A change in the indicator's own unit: percentage points for a share."""
        if value is None:
            return "–"
        if unit == "fraction":
            return self.t["percentage_points"].format(value=f"{value * 100:+.1f}")
        return f"{value:+,.1f}"

    def count(self, value: int | None) -> str:
        return "–" if value is None else f"{value:,}"

    def movement(self, summary: dict) -> str | None:
        """Up 2, down 1, no change, or why there is no movement."""
        moved = summary["rank_movement"]
        if moved is None:
            return self.value(summary["rank_movement_note"])
        if moved == 0:
            return self.value("no change")
        key = "movement_up" if moved > 0 else "movement_down"
        return self.t[key].format(places=abs(moved))


@dataclass(frozen=True)
class BodyExtract:
    """What one body's extract holds, whatever the format or language."""

    summary: dict
    indicators: list[dict]
    services: list[dict]
    trend: list[dict]
    returns: list[dict]
    standards: list[dict] = field(default_factory=list)
    standard_results: list[dict] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.summary["body_code"]


def _by_body(
    con: duckdb.DuckDBPyConnection, sql: str, order: str, bodies: list[str]
) -> dict[str, list[dict]]:
    cursor = con.execute(
        f"select * from ({sql}) q where list_contains(?, body_code) order by {order}", [bodies]
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return {code: list(group) for code, group in groupby(rows, key=itemgetter("body_code"))}


def pace_cell(pace: float | None, unit: str) -> Cell:
    """A 12-month change as the header says: a share's in percentage points (0.077 -> +7.7),
    any other indicator's as a relative change in per cent (-0.05 -> -5.0%)."""
    if unit == "fraction":
        return Cell(None if pace is None else round(pace * 100, 2), SIGNED_POINTS)
    return Cell(_rounded(pace, 4), SIGNED_PERCENT)


def _rounded(value: float | None, decimals: int) -> float | None:
    return None if value is None else round(value, decimals)


def _month_or_word(period: str | None, words: Words) -> object:
    """A month as a date cell; 'met' or 'not at current pace' in words."""
    day = month_date(period)
    return Cell(day, MONTH) if day is not None else words.value(period)


def extract_workbook(
    extract: BodyExtract,
    language: str,
    indicators: dict[str, dict],
    sectors: dict[str, str],
    groups: list | None = None,
) -> bytes:
    """The body's workbook in one language: headers, sheet names and words in that language;
    numbers, months and dates as typed cells with their formats."""
    return workbook_bytes(extract_sheets(extract, language, indicators, sectors, groups))


def extract_sheets(
    extract: BodyExtract,
    language: str,
    indicators: dict[str, dict],
    sectors: dict[str, str],
    groups: list | None = None,
) -> list[Sheet]:
    """The sheets of the body's workbook in one language; `groups`, the standards by group
    (default: the platform's reference data)."""
    words = Words(language)
    t = words.t
    head = t["columns"]
    name = f"name_{language}"
    summary = extract.summary
    ranks = rank_labels(summary, language)
    quartile = summary["sector_quartile"]
    items = [
        ("name", summary[name], None),
        ("body_code", summary["body_code"], None),
        ("sector", sectors[summary["sector"]], None),
        ("period", month_date(summary["period"]), MONTH),
        ("population", summary["population"], COUNT),
        ("coverage", _rounded(summary["coverage"], 4), PERCENT),
        ("ranking_status", words.value(summary["ranking_status"]), None),
        ("score", summary["score"], SCORE),
        ("sector_rank", ranks["sector_rank_range"], None),
        ("sector_ranked_bodies", summary["sector_ranked_bodies"], COUNT),
        ("national_rank", ranks["national_rank_in_wales"], None),
        (
            "sector_quartile",
            quartile if quartile is not None else words.value(summary["sector_quartile_note"]),
            WHOLE,
        ),
        ("movement", words.movement(summary), None),
        ("pace_score", summary["pace_score"], SIGNED_SCORE),
        ("national_pace_rank", ranks["national_pace_rank_ordinal"], None),
        ("letters_prize", _rounded(summary["letters_prize"], 0), COUNT),
        ("services_assessed", summary["services_assessed"], COUNT),
        ("services_assessed_share", _rounded(summary["services_assessed_share"], 4), PERCENT),
    ]
    summary_sheet = Sheet(
        t["sheets"]["summary"],
        [head["item"], head["value_of_item"]],
        [[t["summary"][key], Cell(value, number_format)] for key, value, number_format in items],
    )

    indicator_rows = []
    for row in extract.indicators:
        unit, decimals = row["unit"], int(indicators[row["indicator_code"]]["decimals"])
        measure = measure_format(unit, decimals)

        def cell(column: str, row: dict = row, decimals: int = decimals, measure: str = measure):
            return Cell(_rounded(row[column], decimals), measure)

        indicator_rows.append(
            [
                row[f"indicator_name_{language}"],
                # a measure the body did not report has no value: said so, never shown as 0
                cell("value") if row["value"] is not None else words.value("not reported"),
                cell("sector_lower_quartile"),
                cell("sector_median"),
                cell("sector_upper_quartile"),
                row["sector_bodies_with_value"],
                row["sector_quartile"],
                words.value(row["sector_quartile_note"]),
                pace_cell(row["pace"], unit),
                words.value(row["direction"]),
                cell("target_value"),
                _month_or_word(row["target_period"], words),
                words.value(row["target_status"]),
                cell("required_change_per_year"),
                _month_or_word(row["projected_month"], words),
                row["status"] or t["final"],
                row["indicator_code"],
            ]
        )
    indicator_sheet = Sheet(
        t["sheets"]["indicators"],
        # the indicator's name in the reader's language, then the figures as in the CSV
        [head[c] for c in ("indicator", *INDICATOR_COLUMNS[FIGURES_FROM:], "indicator_code")],
        indicator_rows,
        [None, None, None, None, None, COUNT, WHOLE],
    )

    take_up = indicators["online_take_up"]
    services_sheet = Sheet(
        t["sheets"]["services"],
        [
            head["period"],
            head["service"],
            head["service_code"],
            head["transactions_total"],
            head["transactions_online"],
            take_up[name],
            head["available_online"],
            head["digital_by_default"],
            head["letters_posted"],
            head["digital_notifications"],
            head["revised"],
        ],
        [
            [
                month_date(s["period"]),
                s[f"service_name_{language}"],
                s["service_code"],
                s["transactions_total"],
                s["transactions_online"],
                _rounded(s["online_take_up"], int(take_up["decimals"])),
                words.flag(s["available_online"]),
                words.flag(s["digital_by_default"]),
                s["letters_posted"],
                s["digital_notifications"],
                words.flag(s["revised"]),
            ]
            for s in extract.services
        ],
        [MONTH, None, None, COUNT, COUNT, measure_format("fraction", 4), None, None, COUNT, COUNT],
    )

    trend_codes = indicator_codes(list(indicators.values()))
    trend_sheet = Sheet(
        t["sheets"]["trend"],
        [head["period"], *(indicators[c][name] for c in trend_codes), head["status"]],
        [
            [
                month_date(r["period"]),
                *(_rounded(r[c], int(indicators[c]["decimals"])) for c in trend_codes),
                r["status"] or t["final"],
            ]
            for r in extract.trend
        ],
        [
            MONTH,
            *(
                measure_format(indicators[c]["unit"], int(indicators[c]["decimals"]))
                for c in trend_codes
            ),
        ],
    )

    returns_sheet = Sheet(
        t["sheets"]["returns"],
        [
            head["period"],
            head["due_date"],
            head["return_status"],
            head["first_received_at"],
            head["versions"],
            head["rejected_files"],
        ],
        [
            [
                month_date(r["period"]),
                r["due_date"],
                words.value(r["status"]),
                r["first_received_at"],
                r["versions"],
                r["rejected_files"],
            ]
            for r in extract.returns
        ],
        [MONTH, DATE, None, TIMESTAMP, COUNT, COUNT],
    )
    standards_sheet = _standards_sheet(extract, words, groups or standard_groups(language))
    return [
        summary_sheet,
        indicator_sheet,
        services_sheet,
        trend_sheet,
        returns_sheet,
        standards_sheet,
    ]


def standard_groups(language: str) -> list[tuple[str, str, list[dict[str, str]]]]:
    """The 12 standards by group, names in `language`, from the reference data."""
    return _reference_standard_groups()[language]


@cache
def _reference_standard_groups() -> dict[str, list]:
    reference = load_reference()
    return {language: reference.standard_groups(language) for language in LANGUAGES}


def _results_by_service(extract: BodyExtract) -> dict[str, dict[int, str]]:
    results: dict[str, dict[int, str]] = {}
    for r in extract.standard_results:
        results.setdefault(r["service_code"], {})[int(r["standard"])] = r["result"]
    return results


def _standards_sheet(extract: BodyExtract, words: Words, groups: list) -> Sheet:
    """One row per service of the body: its assessment and, when current, its 12 results."""
    s = words.standards
    name = f"service_name_{words.language}"
    standards = [standard for _, _, members in groups for standard in members]
    results = _results_by_service(extract)
    head = words.t["columns"]
    return Sheet(
        words.t["sheets"]["standards"],
        [
            s["service"],
            head["service_code"],
            s["status"],
            s["assessed_on"],
            s["met_count"],
            s["partly_met_count"],
            s["not_met_count"],
            s["met_share"],
            *(f"{d['standard']}. {d[f'name_{words.language}']}" for d in standards),
        ],
        [
            [
                r[name],
                r["service_code"],
                s["statuses"].get(r["assessment_status"], r["assessment_status"]),
                r["assessed_on"],
                r["standards_met"],
                r["standards_partly_met"],
                r["standards_not_met"],
                _rounded(r["standards_met_share"], 4),
                *(
                    words.result(results.get(r["service_code"], {}).get(int(d["standard"])))
                    if r["assessment_status"] == "current"
                    else None
                    for d in standards
                ),
            ]
            for r in extract.standards
        ],
        [None, None, None, DATE, COUNT, COUNT, COUNT, PERCENT],
    )


def standards_section(extract: BodyExtract, words: Words, groups: list) -> dict[str, object]:
    """The page's service standard section: the share of expected services assessed, each
    service's assessment, and the 12 results of each current one by group."""
    s = words.standards
    summary = extract.summary
    name = f"service_name_{words.language}"
    results = _results_by_service(extract)
    expected = summary["services_expected"]
    return {
        "assessed_sentence": s["assessed_share"].format(
            assessed=words.count(summary["services_assessed"]),
            expected=words.count(expected),
            share=words.measure(summary["services_assessed_share"], "fraction"),
        )
        if expected
        else None,
        "services": [
            (
                r[name],
                words.assessment(r["assessment_status"], r["assessed_on"]),
                words.count(r["standards_met"]) if r["standards_met"] is not None else "–",
                words.measure(r["standards_met_share"], "fraction"),
            )
            for r in extract.standards
        ],
        "current": [
            (
                s["results_of"].format(service=r[name], date=words.day(r["assessed_on"])),
                [
                    (
                        group_name,
                        [
                            (
                                d["standard"],
                                d[f"name_{words.language}"],
                                words.result(
                                    results.get(r["service_code"], {}).get(int(d["standard"]))
                                ),
                            )
                            for d in members
                        ],
                    )
                    for _, group_name, members in groups
                ],
            )
            for r in extract.standards
            if r["assessment_status"] == "current"
        ],
    }


def _charts(extract: BodyExtract, words: Words, language: str) -> dict[str, Markup]:
    """Each indicator's benchmark bar, its text alternative the figures the bar draws."""
    page = words.t["page"]
    charts = {}
    for row in extract.indicators:
        unit = row["unit"]
        values = [row[c] for c in ("value", "sector_upper_quartile") if row[c] is not None]
        top = 1.0 if unit == "fraction" else max(values, default=1.0) * 1.2
        indicator = row[f"indicator_name_{language}"]
        if row["sector_median"] is None:
            label = page["bar_label_no_sector"].format(
                indicator=indicator,
                value=words.measure(row["value"], unit),
                note=words.value(row["sector_quartile_note"]) or "–",
            )
        else:
            label = page["bar_label"].format(
                indicator=indicator,
                value=words.measure(row["value"], unit),
                lower=words.measure(row["sector_lower_quartile"], unit),
                median=words.measure(row["sector_median"], unit),
                upper=words.measure(row["sector_upper_quartile"], unit),
            )
        charts[row["indicator_code"]] = Markup(
            benchmark_bar(
                row["value"],
                row["sector_lower_quartile"],
                row["sector_median"],
                row["sector_upper_quartile"],
                top,
                label,
            )
        )
    return charts


def extract_page(
    extract: BodyExtract,
    language: str,
    indicators: dict[str, dict],
    sectors: dict[str, str],
    files: dict[str, str],
    groups: list | None = None,
) -> str:
    """The body's self-contained page in one language: every section the other language has."""
    context = page_context(extract, language, indicators, sectors, files, groups)
    return _page_template().render(context)


def page_context(
    extract: BodyExtract,
    language: str,
    indicators: dict[str, dict],
    sectors: dict[str, str],
    files: dict[str, str],
    groups: list | None = None,
) -> dict[str, object]:
    """What the page template is given for one body in one language."""
    words = Words(language)
    trend = extract.trend
    take_up_trend = Markup(
        trend_line(
            [(words.month(r["period"]), r["online_take_up"]) for r in trend],
            words.t["page"]["trend_label"].format(
                first=words.month(trend[0]["period"]), last=words.month(trend[-1]["period"])
            )
            if trend
            else "",
            percent=True,
        )
    )
    trend_codes = indicator_codes(list(indicators.values()))
    trend_units = [(c, indicators[c]["unit"]) for c in trend_codes]
    return dict(
        lang=language,
        other=next(other for other in LANGUAGES if other != language),
        w=words,
        t=words.t,
        summary=extract.summary,
        name=extract.summary[f"name_{language}"],
        sector=sectors[extract.summary["sector"]],
        ranks=rank_labels(extract.summary, language),
        indicators=extract.indicators,
        charts=_charts(extract, words, language),
        take_up_trend=take_up_trend,
        trend_rows=[
            (
                words.month(r["period"]),
                [words.measure(r[code], unit) for code, unit in trend_units],
                r["status"] or words.t["final"],
            )
            for r in trend
        ],
        trend_columns=[
            (c, indicators[c][f"name_{language}"], indicators[c]["unit"]) for c in trend_codes
        ],
        service_rows=[
            (
                words.month(s["period"]),
                s[f"service_name_{language}"],
                words.count(s["transactions_total"]),
                words.count(s["transactions_online"]),
                words.measure(s["online_take_up"], "fraction"),
                words.flag(s["available_online"]),
                words.flag(s["digital_by_default"]),
                words.count(s["letters_posted"]),
                words.count(s["digital_notifications"]),
                words.flag(s["revised"]),
            )
            for s in extract.services
        ],
        return_rows=[
            (
                words.month(r["period"]),
                words.day(r["due_date"]),
                words.value(r["status"]),
                words.timestamp(r["first_received_at"]),
                r["versions"],
                r["rejected_files"],
            )
            for r in extract.returns
        ],
        files=files,
        files_sentence=_files_sentence(words, language, files),
        standards=standards_section(extract, words, groups or standard_groups(language)),
        s=words.standards,
    )


def _files_sentence(words: Words, language: str, files: dict[str, str]) -> Markup:
    """The sentence naming the other files of the extract, each a link beside the page."""

    def link(name: str) -> Markup:
        return Markup('<a href="{0}">{0}</a>').format(name)

    return Markup(escape(words.t["page"]["files"])).format(
        workbook=link(files[f"workbook_{language}"]),
        indicators_csv=link(files["indicators_csv"]),
        services_csv=link(files["services_csv"]),
    )


@cache
def _page_template() -> Template:
    return template_environment(html=True).get_template("extract.html.j2")


def extract_files(code: str) -> dict[str, str]:
    """The file names of a body's extract: a page and a workbook per language, two CSVs."""
    return {
        **{f"page_{language}": f"{code}.{language}.html" for language in LANGUAGES},
        **{f"workbook_{language}": f"{code}.{language}.xlsx" for language in LANGUAGES},
        "indicators_csv": f"{code}_indicators.csv",
        "services_csv": f"{code}_services.csv",
    }


MANIFEST = "manifest.json"


def body_fingerprints(
    con: duckdb.DuckDBPyConnection, sources: str | None = None, indicators: list[dict] | None = None
) -> dict[str, str]:
    """Every body's fingerprint, in one query: the SHA-256 of its rows in each query an extract
    reads (its sector's medians and quartiles are columns of its own rows), the columns' types,
    and `sources` (the code, templates, words and reference data; computed when not given)."""
    sources = sources or sources_fingerprint()
    queries = extract_queries(load_reference().indicators if indicators is None else indicators)
    schemas = "\n".join(schema_of(con, sql) for sql, _ in queries.values())
    digests = ",\n".join(
        f"{name} as ({rows_digest_sql(sql, 'body_code')})" for name, (sql, _) in queries.items()
    )
    parts = ", ".join(f"coalesce({name}.digest, '-')" for name in queries)
    joins = " ".join(f"left join {name} using (body_code)" for name in list(queries)[1:])
    rows = con.execute(
        f"""with {digests}
        select body_code, sha256(concat_ws(chr(10), ?, ?, {parts}))
        from summary {joins} order by body_code""",
        [sources, schemas],
    ).fetchall()
    return dict(rows)


def previous_fingerprints(previous: Path | None) -> dict[str, str]:
    """What each body's extract in the live publication was made from (none: render all)."""
    if previous is None:
        return {}
    try:
        manifest = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    bodies = manifest.get("bodies") if isinstance(manifest, dict) else None
    return bodies if isinstance(bodies, dict) else {}


def extracts_inputs(fingerprints: dict[str, str]) -> str:
    """One fingerprint for the whole publication: every body's, and which bodies there are."""
    text = "\n".join(f"{code} {fingerprint}" for code, fingerprint in sorted(fingerprints.items()))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class PublishedExtracts:
    """What a publication of extracts wrote: every file, and which bodies were rendered and
    which were taken unchanged from the live publication."""

    files: list[Path]
    rendered: list[str]
    carried_over: list[str]


def publish_extracts(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    previous: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    fingerprints: dict[str, str] | None = None,
    workers: int | None = None,
    reference: Reference | None = None,
) -> PublishedExtracts:
    """Every body's extract, in `target/<body_code>/`, and a manifest of their fingerprints. A
    body whose fingerprint is the one its extract in `previous` (the live publication) was made
    from is taken from there, file for file; the others are rendered. `progress` is told
    (bodies rendered, bodies to render) as bodies are rendered; `workers` processes render
    them (default: one a core when there are many); `reference`, the reference data whose
    dictionary and standards they show (default: the platform's reference folder)."""
    reference = reference or load_reference()
    if fingerprints is None:
        fingerprints = body_fingerprints(con, indicators=reference.indicators)
    before = previous_fingerprints(previous)
    rendered, carried = [], []
    for code in sorted(fingerprints):
        names = extract_files(code).values()
        kept = previous is not None and before.get(code) == fingerprints[code]
        if kept and all((previous / code / name).is_file() for name in names):
            carried.append(code)
        else:
            rendered.append(code)
    for code in carried:
        (target / code).mkdir(parents=True, exist_ok=True)
        for name in extract_files(code).values():
            carry_file(previous / code / name, target / code / name)
    _render_extracts(con, target, rendered, progress, workers, reference)
    manifest = {"bodies": dict(sorted(fingerprints.items()))}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    files = [
        target / code / name
        for code in sorted(fingerprints)
        for name in sorted(extract_files(code).values())
    ]
    return PublishedExtracts([*files, target / MANIFEST], rendered, carried)


def _render_extracts(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    bodies: list[str],
    progress: Callable[[int, int], None] | None,
    workers: int | None = None,
    reference: Reference | None = None,
) -> None:
    """Render the extracts of `bodies`, reading only their rows: in this process, or in
    `workers` processes (default: one a core, for POOL_FROM bodies or more)."""
    report = progress or (lambda done, total: None)
    report(0, len(bodies))
    if not bodies:
        return
    reference = reference or load_reference()
    context = RenderingContext(
        column_decimals(reference.indicators),
        {i["indicator_code"]: i for i in reference.indicators},
        {language: reference.sector_names(language) for language in LANGUAGES},
        {language: reference.standard_groups(language) for language in LANGUAGES},
    )
    queries = extract_queries(reference.indicators)
    data = {name: _by_body(con, sql, order, bodies) for name, (sql, order) in queries.items()}
    extracts = (
        BodyExtract(
            data["summary"][code][0],
            data["indicators"].get(code, []),
            data["services"].get(code, []),
            data["trend"].get(code, []),
            data["returns"].get(code, []),
            data["standards"].get(code, []),
            data["standard_results"].get(code, []),
        )
        for code in bodies
    )
    workers = _workers(len(bodies)) if workers is None else workers
    if workers <= 1:
        for done, extract in enumerate(extracts, start=1):
            _render_one(extract, target, context)
            report(done, len(bodies))
        return
    done = 0
    for rendered in _render_in_pool(extracts, target, context, workers):
        done += rendered
        report(done, len(bodies))


# Below this many bodies to render, starting worker processes costs more than it saves: each
# imports the renderers (about a second) and, as "spawn" does, the program's main module (that of
# `make run` imports Dagster: a few seconds).
POOL_FROM = 200
BATCH = 16  # bodies a task: few enough to keep both cores busy to the end
IN_FLIGHT = 2  # tasks queued per worker: bounds the extracts held in memory at once


def _workers(bodies: int) -> int:
    if bodies < POOL_FROM or multiprocessing.current_process().daemon:
        return 1  # a daemonic process (some executors' steps) may not start processes
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(cores or 1, (bodies + BATCH - 1) // BATCH)


class ExtractError(RuntimeError):
    """A body's extract could not be rendered; the message starts with its code."""


def _render_one(extract: BodyExtract, target: Path, context: RenderingContext) -> None:
    try:
        render_extract(extract, target, context)
    except Exception as error:
        # Only the message crosses from a worker process: it carries the body and the cause.
        raise ExtractError(f"{extract.code}: {type(error).__name__}: {error}") from error


_WORKER_CONTEXT: list[RenderingContext] = []  # the context of this worker process


def _start_worker(context: RenderingContext) -> None:
    _WORKER_CONTEXT[:] = [context]


def _render_batch(extracts: list[BodyExtract], target: Path) -> int:
    for extract in extracts:
        _render_one(extract, target, _WORKER_CONTEXT[0])
    return len(extracts)


def _render_in_pool(
    extracts: Iterator[BodyExtract], target: Path, context: RenderingContext, workers: int
) -> Iterator[int]:
    """Render in `workers` fresh processes ("spawn": nothing of this process's threads or
    open warehouse is inherited), BATCH bodies a task and at most IN_FLIGHT tasks a worker
    queued; yields how many bodies each finished task rendered. Each body's files depend on
    its extract alone, so the order tasks finish in changes no byte. The first error stops
    the rendering and is raised here, naming its body."""
    batches = iter(lambda: list(islice(extracts, BATCH)), [])
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(context,),
    ) as pool:
        pending = set()
        try:
            for batch in batches:
                pending.add(pool.submit(_render_batch, batch, target))
                if len(pending) >= workers * IN_FLIGHT:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (future.result() for future in finished)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in finished)
        except BaseException:
            for future in pending:
                future.cancel()
            raise


@dataclass(frozen=True)
class RenderingContext:
    """The reference data every extract reads: each indicator's published decimals and its
    row of the dictionary, and the sector names in each language."""

    decimals: dict[str, int]
    indicators: dict[str, dict]
    sectors: dict[str, dict[str, str]]
    standard_groups: dict[str, list] = field(default_factory=dict)


def render_extract(extract: BodyExtract, target: Path, context: RenderingContext) -> None:
    """Write one body's extract files in `target/<body_code>/`."""
    decimals, indicators, sectors = context.decimals, context.indicators, context.sectors
    folder = target / extract.code
    folder.mkdir(parents=True, exist_ok=True)
    files = extract_files(extract.code)
    # Each row's measures are published at the precision of its own indicator.
    indicator_cells = [
        format_rows(
            [row],
            INDICATOR_COLUMNS,
            {**dict.fromkeys(MEASURES, decimals[row["indicator_code"]]), "pace": 4},
            neutralise=True,  # a body opens its extract in a spreadsheet
        )[0]
        for row in extract.indicators
    ]
    write_csv(folder / files["indicators_csv"], INDICATOR_COLUMNS, indicator_cells)
    write_csv(
        folder / files["services_csv"],
        SERVICE_COLUMNS,
        format_rows(
            extract.services,
            SERVICE_COLUMNS,
            {"online_take_up": 4, "cost_total": 2},
            neutralise=True,
        ),
    )
    for language in LANGUAGES:
        groups = context.standard_groups.get(language)
        workbook = extract_workbook(extract, language, indicators, sectors[language], groups)
        (folder / files[f"workbook_{language}"]).write_bytes(workbook)
        page = extract_page(extract, language, indicators, sectors[language], files, groups)
        (folder / files[f"page_{language}"]).write_text(page, encoding="utf-8")
