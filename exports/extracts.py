"""A benchmark extract for every registered body, in English and Welsh: CSV, an XLSX workbook
and a self-contained HTML page with its charts inline. Each holds the body's own service-level
figures and, for its peers, only published sector medians and quartiles."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import duckdb
from markupsafe import Markup

from dagster_project.reference import load_reference
from exports.cells import format_rows, workbook_bytes, write_csv
from exports.charts import benchmark_bar, trend_line
from exports.evidence import LANGUAGES, page_strings, rank_labels
from exports.open_data import SCORE_COLUMNS, column_decimals
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
    "revised",
)
TREND_COLUMNS = (
    "period",
    "online_take_up",
    "online_availability",
    "digital_by_default_rate",
    "letters_per_1000",
    "digital_contact_share",
    "status",
)
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
)

QUERIES = {
    "summary": f"select {', '.join(SUMMARY_COLUMNS)} from marts.league_table",
    "indicators": f"""
        select b.body_code, {", ".join("b." + c for c in BENCHMARK_COLUMNS)},
            {", ".join("p." + c for c in PROGRESS_COLUMNS)}
        from marts.body_benchmarks b
        join marts.indicator_progress p using (body_code, indicator_code)
        order by b.body_code, b.indicator_code""",
    # The body's own rows only, over the headline window.
    "services": f"""
        select s.body_code, {", ".join("s." + c for c in SERVICE_COLUMNS)}
        from marts.service_figures s, intermediate.int_publication_window w
        where s.period_month between w.window_start and w.publication_month
        order by s.body_code, s.period, s.service_code""",
    "trend": f"""select body_code, {", ".join(TREND_COLUMNS)} from marts.indicators_monthly
        order by body_code, period""",
    "returns": f"""select body_code, {", ".join(RETURN_COLUMNS)} from marts.submission_returns
        where status <> 'on_time' order by body_code, period""",
}


def _by_body(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, list[dict]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return {code: list(group) for code, group in groupby(rows, key=itemgetter("body_code"))}


def _table(rows: Iterable[dict], columns: tuple[str, ...]) -> list[list[object]]:
    return [list(columns), *([r[c] for c in columns] for r in rows)]


def publish_extracts(con: duckdb.DuckDBPyConnection, target: Path) -> list[Path]:
    decimals = column_decimals(load_reference().indicators)
    data = {name: _by_body(con, sql) for name, sql in QUERIES.items()}
    page = template_environment(html=True).get_template("extract.html.j2")
    strings = page_strings()
    written = []
    for code in sorted(data["summary"]):
        folder = target / code
        folder.mkdir(parents=True, exist_ok=True)
        summary = data["summary"][code][0]
        indicators = data["indicators"].get(code, [])
        services = data["services"].get(code, [])
        trend = data["trend"].get(code, [])
        returns = data["returns"].get(code, [])
        # Each row's measures are published at the precision of its own indicator.
        indicator_cells = [
            format_rows(
                [row],
                INDICATOR_COLUMNS,
                {**dict.fromkeys(MEASURES, decimals[row["indicator_code"]]), "pace": 4},
                neutralise=True,  # a body opens its extract in a spreadsheet
            )[0]
            for row in indicators
        ]
        write_csv(folder / f"{code}_indicators.csv", INDICATOR_COLUMNS, indicator_cells)
        write_csv(
            folder / f"{code}_services.csv",
            SERVICE_COLUMNS,
            format_rows(services, SERVICE_COLUMNS, {"online_take_up": 4}, neutralise=True),
        )
        (folder / f"{code}.xlsx").write_bytes(
            workbook_bytes(
                {
                    "Summary - Crynodeb": _table([summary], SUMMARY_COLUMNS),
                    "Indicators - Dangosyddion": _table(indicators, INDICATOR_COLUMNS),
                    "Services - Gwasanaethau": _table(services, SERVICE_COLUMNS),
                    "Trend - Tuedd": _table(trend, TREND_COLUMNS),
                    "Returns - Ffurflenni": _table(returns, RETURN_COLUMNS),
                }
            )
        )
        charts = {}
        for row in indicators:
            values = [row[c] for c in ("value", "sector_upper_quartile") if row[c] is not None]
            top = 1.0 if row["unit"] == "fraction" else max(values, default=1.0) * 1.2
            charts[row["indicator_code"]] = Markup(
                benchmark_bar(
                    row["value"],
                    row["sector_lower_quartile"],
                    row["sector_median"],
                    row["sector_upper_quartile"],
                    top,
                    row["indicator_name_en"],
                )
            )
        take_up_trend = Markup(
            trend_line(
                [(r["period"], r["online_take_up"]) for r in trend],
                "Online take-up by month",
                percent=True,
            )
        )
        html = page.render(
            summary=summary,
            indicators=indicators,
            services=services,
            returns=returns,
            charts=charts,
            take_up_trend=take_up_trend,
            sector_names=strings["sectors"],
            ranks={language: rank_labels(summary, language) for language in LANGUAGES},
            t={language: strings[language] for language in LANGUAGES},
        )
        (folder / f"{code}.html").write_text(html, encoding="utf-8")
        written += [
            folder / f"{code}{suffix}"
            for suffix in ("_indicators.csv", "_services.csv", ".xlsx", ".html")
        ]
    return written
