"""Render the publications from the warehouse marts: the Evidence project, a benchmark extract per
body and the open data. Static SQL only; values reach files as data, never as code, and every
file is written in a stable order with stable number formatting, so the same warehouse gives
byte-identical files."""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Iterable, Sequence
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from dagster_project.reference import load_reference
from dagster_project.settings import REFERENCE_DIR
from exports.methodology import LANGUAGES, methodology
from exports.templating import TEMPLATES_DIR, template_environment

# What the Evidence project reads, one Parquet file per source query.
EVIDENCE_SOURCES: dict[str, str] = {
    "league_table": "select * from marts.league_table order by body_code",
    "indicators_monthly": "select * from marts.indicators_monthly order by body_code, period_month",
    "body_benchmarks": "select * from marts.body_benchmarks order by body_code, indicator_code",
    "indicator_dictionary": "select * from reference.indicator_dictionary order by indicator_code",
    "submission_returns": "select * from marts.submission_returns order by body_code, period_month",
    "submission_files": "select file_name, source, sender, status, received_at, row_count, "
    "error_count, warning_count from staging.stg_submission_files order by load_sequence",
}
BODY_CODE = re.compile(r"[A-Z0-9]+")
# A spreadsheet treats a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

INDICATOR_CODES = (
    "online_take_up",
    "online_availability",
    "digital_by_default_rate",
    "letters_per_1000",
    "digital_contact_share",
)
LEAGUE_TABLE_COLUMNS = (
    "body_code",
    "name_en",
    "name_cy",
    "sector",
    "period",
    "population",
    "months_reported",
    "coverage",
    "ranked",
    "ranking_status",
    *INDICATOR_CODES,
    "score",
    "sector_rank",
    "sector_rank_label",
    "sector_ranked_bodies",
    "sector_quartile",
    "rank_movement",
    "pace_score",
    "national_pace_rank",
    "national_pace_rank_label",
    "letters_prize",
    *(
        f"{code}_{part}"
        for code in INDICATOR_CODES
        for part in ("pace", "direction", "target_status", "status")
    ),
)
EXTRACT_COLUMNS = (
    "body_code",
    "period",
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
)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def safe_text(value: str) -> str:
    """Neutralise text a spreadsheet would run as a formula, by a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def format_cell(value: object, decimals: int | None = None) -> str:
    """Stable text for a CSV cell: empty for missing, fixed decimals for measures."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.{decimals if decimals is not None else 6}f}"
    if isinstance(value, int):
        return str(value)
    return safe_text(str(value))


def column_decimals(indicators: Iterable[dict]) -> dict[str, int]:
    """Published precision per column: each indicator's from the dictionary, then the rest."""
    decimals = {i["indicator_code"]: int(i["decimals"]) for i in indicators}
    paces = {f"{code}_pace": 4 for code in decimals}
    return {**decimals, **paces, "score": 1, "pace_score": 1, "coverage": 4, "letters_prize": 0}


def write_csv(path: Path, header: Sequence[str], cells: Iterable[Sequence[str]]) -> None:
    """Write already formatted cells: UTF-8, LF line endings, minimal quoting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(cells)


def format_rows(
    rows: Iterable[dict], columns: Sequence[str], decimals: dict[str, int]
) -> list[list[str]]:
    return [[format_cell(row[c], decimals.get(c)) for c in columns] for row in rows]


def registered_bodies(con: duckdb.DuckDBPyConnection) -> list[dict]:
    bodies = _rows(
        con, "select body_code, name_en, name_cy, sector from reference.bodies order by body_code"
    )
    for body in bodies:
        # Body codes become folder names and URLs: only letters and digits may pass.
        if not BODY_CODE.fullmatch(body["body_code"]):
            raise ValueError(f"body_code {body['body_code']!r} in the register is not [A-Z0-9]+")
    return bodies


def indicator_dictionary(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _rows(con, "select * from reference.indicator_dictionary order by indicator_code")


def publish_evidence_project(
    con: duckdb.DuckDBPyConnection, target: Path, version: str
) -> list[Path]:
    """Render the Evidence project into `target`, keeping any node_modules a user installed."""
    # The scored indicators; coverage (role 'quality') is shown on its own.
    indicators = [i for i in indicator_dictionary(con) if i["role"] == "score"]
    period = con.execute("select max(period) from marts.league_table").fetchone()[0]
    context = {
        "version": version,
        "bodies": registered_bodies(con),
        "indicators": indicators,
        "period": period,
        "fraction_columns": "{["
        + ", ".join(f"'{i['indicator_code']}_pct'" for i in indicators if i["unit"] == "fraction")
        + "]}",
    }
    for generated in ("pages", "sources"):
        shutil.rmtree(target / generated, ignore_errors=True)
    written = []
    environment = template_environment()
    source_root = TEMPLATES_DIR / "evidence"
    for template in sorted(p for p in source_root.rglob("*") if p.is_file()):
        relative = template.relative_to(source_root)
        output = target / (relative.with_suffix("") if template.suffix == ".j2" else relative)
        output.parent.mkdir(parents=True, exist_ok=True)
        if template.suffix == ".j2":
            text = environment.get_template(f"evidence/{relative.as_posix()}").render(context)
            output.write_text(text, encoding="utf-8")
        else:
            shutil.copyfile(template, output)
        written.append(output)
    # The methodology reads the versioned dictionary as written (0.30 stays 0.30).
    dictionary = load_reference().indicators
    for name, language in (("methodology", "en"), ("methodoleg", "cy")):
        page = target / "pages" / f"{name}.md"
        title = "Methodology" if language == "en" else "Methodoleg"
        page.write_text(
            f"---\ntitle: {title}\n---\n\n" + methodology(dictionary, language),
            encoding="utf-8",
        )
        written.append(page)
    sources = target / "sources" / "warehouse"
    for name, sql in EVIDENCE_SOURCES.items():
        pq.write_table(con.sql(sql).to_arrow_table(), sources / f"{name}.parquet")
        (sources / f"{name}.sql").write_text(
            f"select * from read_parquet('sources/warehouse/{name}.parquet')\n", encoding="utf-8"
        )
        written += [sources / f"{name}.parquet", sources / f"{name}.sql"]
    return written


def publish_extracts(con: duckdb.DuckDBPyConnection, target: Path) -> list[Path]:
    """One folder per registered body with its indicators beside its sector's median."""
    decimals = column_decimals(indicator_dictionary(con))
    all_rows = _rows(
        con,
        f"""
        select {", ".join(EXTRACT_COLUMNS)}
        from marts.body_benchmarks
        order by body_code, indicator_code""",
    )
    by_body = {code: list(rows) for code, rows in groupby(all_rows, key=itemgetter("body_code"))}
    written = []
    for body in registered_bodies(con):
        rows = by_body.get(body["body_code"], [])
        measures = ("value", "sector_lower_quartile", "sector_median", "sector_upper_quartile")
        # Each row's measures are published at the precision of its own indicator.
        cells = [
            format_rows(
                [row], EXTRACT_COLUMNS, dict.fromkeys(measures, decimals[row["indicator_code"]])
            )[0]
            for row in rows
        ]
        path = target / body["body_code"] / f"{body['body_code']}_indicators.csv"
        write_csv(path, EXTRACT_COLUMNS, cells)
        written.append(path)
    return written


def publish_open_data(con: duckdb.DuckDBPyConnection, target: Path) -> list[Path]:
    """The league table and the indicator dictionary as open CSV."""
    indicators = indicator_dictionary(con)
    rows = _rows(
        con,
        f"""
        select {", ".join(LEAGUE_TABLE_COLUMNS)}
        from marts.league_table
        order by sector, sector_rank nulls last, body_code""",
    )
    league = target / "league_table.csv"
    write_csv(
        league,
        LEAGUE_TABLE_COLUMNS,
        format_rows(rows, LEAGUE_TABLE_COLUMNS, column_decimals(indicators)),
    )
    written = []
    for language in LANGUAGES:
        path = target / f"methodology.{language}.md"
        path.write_text(methodology(load_reference().indicators, language), encoding="utf-8")
        written.append(path)
    # The dictionary is published as it is versioned: byte for byte.
    dictionary = target / "indicator_dictionary.csv"
    shutil.copyfile(REFERENCE_DIR / "indicator_dictionary.csv", dictionary)
    return [league, dictionary, *written]
