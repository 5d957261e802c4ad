"""Open data: the league table and the indicators as CSV and JSON, described by CSV on the Web
metadata that a program can read knowing nothing else, the indicator dictionary, the
methodology, and a manifest with the SHA-256 of every file and the publication metadata."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb

from dagster_project.catalogue import LANGUAGES
from dagster_project.reference import Reference, load_reference, published_indicators
from exports.cells import format_rows, json_value, write_csv
from exports.methodology import methodology
from exports.release import query_fingerprint, sources_fingerprint

# The score, its ranks, their range, quartile, movement and pace: in the open data and in every
# body's extract alike.
SCORE_COLUMNS = (
    "score",
    "sector_rank",
    "sector_rank_tied",
    "sector_rank_label",
    "sector_ranked_bodies",
    "sector_rank_low",
    "sector_rank_high",
    "national_rank",
    "national_rank_tied",
    "national_rank_label",
    "national_ranked_bodies",
    "sector_quartile",
    "sector_quartile_note",
    "rank_movement",
    "rank_movement_note",
    "pace_score",
    "national_pace_rank",
    "national_pace_rank_label",
    "letters_prize",
)
ASSESSMENT_COLUMNS = ("services_expected", "services_assessed", "services_assessed_share")
SERVICE_STANDARDS_COLUMNS = (
    "body_code",
    "service_code",
    "assessed_on",
    "assessment_status",
    "standards_met",
    "standards_partly_met",
    "standards_not_met",
    "standards_met_share",
)


def indicator_codes(indicators: list[dict]) -> list[str]:
    """The indicator columns of the headline tables, from the dictionary (score and reported)."""
    return [i["indicator_code"] for i in published_indicators(indicators)]


def league_table_columns(indicators: list[dict]) -> tuple[str, ...]:
    codes = indicator_codes(indicators)
    return (
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
        *codes,
        *(f"{code}_points" for code in codes),
        *SCORE_COLUMNS,
        *(
            f"{code}_{part}"
            for code in codes
            for part in ("pace", "direction", "target_status", "status")
        ),
        *ASSESSMENT_COLUMNS,
    )


def indicators_columns(indicators: list[dict]) -> tuple[str, ...]:
    return (
        "body_code",
        "period",
        "services_expected",
        "services_reported",
        *indicator_codes(indicators),
        "status",
    )


SENSITIVITY_COLUMNS = (
    "variant",
    "variant_group",
    "description_en",
    "description_cy",
    "spearman_rho",
    "ranked_bodies",
)
SENSITIVITY_QUERY = (
    f"select {', '.join(SENSITIVITY_COLUMNS)} from marts.sensitivity_agreement "
    "order by variant_group, variant"
)


def tables(indicators: list[dict]) -> dict[str, tuple[str, tuple[str, ...], list[str], str]]:
    """Each open-data file: file stem -> (query, columns, primary key, description), its
    indicator columns those the dictionary publishes."""
    league = league_table_columns(indicators)
    monthly = indicators_columns(indicators)
    return {
        "league_table": (
            f"select {', '.join(league)} from marts.league_table "
            "order by sector, sector_rank nulls last, body_code",
            league,
            ["body_code"],
            "The national league table of digital progress: one row per registered public body.",
        ),
        "indicators": (
            f"select {', '.join(monthly)} from marts.indicators_monthly order by body_code, period",
            monthly,
            ["body_code", "period"],
            "The indicators of every body for every month it reported.",
        ),
        "service_standards": (
            f"select {', '.join(SERVICE_STANDARDS_COLUMNS)} from marts.service_standards "
            "order by body_code, service_code",
            SERVICE_STANDARDS_COLUMNS,
            ["body_code", "service_code"],
            "Each body's services against the Digital Service Standard for Wales at the "
            "publication month: the date of the current assessment and the standards met.",
        ),
        "sensitivity_agreement": (
            SENSITIVITY_QUERY,
            SENSITIVITY_COLUMNS,
            ["variant"],
            "How far each variant of the sensitivity analysis agrees with the published national "
            "order of ranked bodies (Spearman's rank correlation).",
        ),
    }


CSVW_TYPES = {
    "VARCHAR": "string",
    "DOUBLE": "number",
    "BIGINT": "integer",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "DATE": "date",
}
COLUMN_NOTES = {
    "body_code": "Code of the body in the register (GSS code where one exists).",
    "period": "Month, YYYY-MM: the month reported, or the end of a 12-month window.",
    "ranked": "true when coverage reaches the threshold: scored and ranked.",
    "ranking_status": "'ranked' or 'insufficient data'.",
    "score": "Digital Progress Score, 0-100, from fixed goalposts: the body's own returns only.",
    "sector_rank": "Standard competition rank of the score within the sector.",
    "sector_rank_tied": "true when another ranked body of the sector has the same score.",
    "sector_rank_label": "Rank within sector, '=' marking a tie (see sector_rank_tied).",
    "sector_rank_low": "Best sector rank across the sensitivity analysis (5th percentile).",
    "sector_rank_high": "Worst sector rank across the sensitivity analysis (95th percentile).",
    "national_rank": "Standard competition rank of the score over every ranked body in Wales.",
    "national_rank_tied": "true when another ranked body has the same score.",
    "national_rank_label": "National rank, '=' marking a tie.",
    "sector_quartile": "1 (top) to 4, cut on scores over the sector's ranked bodies.",
    "sector_quartile_note": "Why a ranked body has no quartile.",
    "rank_movement": "Over bodies ranked in both months: last month's rank minus this month's.",
    "rank_movement_note": "Why there is no movement.",
    "pace_score": "The score now minus the score 12 months before, in points.",
    "letters_prize": "Letters a year not posted at the sector's top-quartile rate.",
    "services_expected": "Services the body is expected to report that month.",
    "services_assessed": "Expected services with a current Digital Service Standard assessment "
    "(the latest, under 24 months old) at the publication month.",
    "services_assessed_share": "services_assessed / services_expected.",
    "spearman_rho": "Spearman's rank correlation with the published national order.",
    "status": "StatsWales note code: x missing, u low reliability, r revised, p provisional.",
}


# The service standards table's own columns: its standards_met is a count, not the indicator.
SERVICE_STANDARDS_NOTES = {
    "service_code": "Code of the service in the catalogue.",
    "assessed_on": "Date of the service's current assessment; empty if it has none.",
    "assessment_status": "'current', 'expired' (only assessments over 24 months old) or "
    "'not_assessed'.",
    "standards_met": "Of the 12 standards, those met at the current assessment (partly met is "
    "not met); empty unless current.",
    "standards_partly_met": "Standards partly met at the current assessment.",
    "standards_not_met": "Standards not met at the current assessment.",
    "standards_met_share": "standards_met / 12; empty unless the assessment is current.",
}


def column_decimals(indicators: list[dict]) -> dict[str, int]:
    """Published precision per column: each indicator's from the dictionary, then the rest."""
    decimals = {i["indicator_code"]: int(i["decimals"]) for i in indicators}
    paces = {f"{code}_pace": 4 for code in decimals}
    points = {f"{code}_points": 1 for code in decimals}
    return {
        **decimals,
        **paces,
        **points,
        "score": 1,
        "pace_score": 1,
        "coverage": 4,
        "letters_prize": 0,
        "spearman_rho": 4,
        "services_assessed_share": 4,
        "standards_met_share": 4,
    }


def _describe(name: str, indicators: dict[str, dict], stem: str = "") -> str:
    if stem == "service_standards" and name in SERVICE_STANDARDS_NOTES:
        return SERVICE_STANDARDS_NOTES[name]
    if name in indicators:
        i = indicators[name]
        return f"{i['name_en']} / {i['name_cy']}: {i['description_en']} ({i['unit']})"
    for suffix in ("_points", "_pace", "_direction", "_target_status", "_status"):
        code = name.removesuffix(suffix)
        if code != name and code in indicators:
            described = f"{indicators[code]['name_en']}: {suffix[1:].replace('_', ' ')}"
            if suffix == "_points" and indicators[code]["role"] != "score":
                described += " (empty: reported, not in the score)"
            return described
    return COLUMN_NOTES.get(name, name.replace("_", " "))


def publication_metadata(con: duckdb.DuckDBPyConnection, as_of: str, code_version: str) -> dict:
    period = con.execute("select max(period) from marts.league_table").fetchone()[0]
    return {"period": period, "as_of": as_of or "all data received", "code_version": code_version}


def sensitivity_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """This release's sensitivity analysis, for the methodology's agreement table."""
    rows = con.execute(SENSITIVITY_QUERY).fetchall()
    return [dict(zip(SENSITIVITY_COLUMNS, r, strict=True)) for r in rows]


def open_data_inputs(
    con: duckdb.DuckDBPyConnection,
    as_of: str,
    code_version: str,
    reference: Reference | None = None,
) -> str:
    """The fingerprint of everything the open data is made of: its tables' rows, the templates,
    words and reference data, and the publication metadata its manifest carries."""
    reference = reference or load_reference()
    queries = [query for query, *_ in tables(reference.indicators).values()]
    parts = (sources_fingerprint(), as_of, code_version, query_fingerprint(con, queries))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def publish_open_data(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    as_of: str,
    code_version: str,
    reference: Reference | None = None,
) -> list[Path]:
    """Every open-data file into `target`, its indicator columns those of `reference`'s
    dictionary (default: the platform's reference folder)."""
    reference = reference or load_reference()
    indicators = reference.indicators
    by_code = {i["indicator_code"]: i for i in indicators}
    decimals = column_decimals(indicators)
    target.mkdir(parents=True, exist_ok=True)
    metadata_tables = []
    for stem, (query, columns, key, description) in tables(indicators).items():
        cursor = con.execute(query)
        types = {d[0]: str(d[1]) for d in cursor.description}
        rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
        write_csv(target / f"{stem}.csv", columns, format_rows(rows, columns, decimals))
        records = [{c: json_value(r[c], decimals.get(c)) for c in columns} for r in rows]
        (target / f"{stem}.json").write_text(
            json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        metadata_tables.append(
            {
                "url": f"{stem}.csv",
                "dc:description": description,
                "tableSchema": {
                    "columns": [
                        {
                            "name": c,
                            "titles": c,
                            "datatype": CSVW_TYPES.get(types[c].upper(), "string"),
                            "dc:description": _describe(c, by_code, stem),
                        }
                        for c in columns
                    ],
                    "primaryKey": key,
                },
            }
        )
    csvw = {
        "@context": "http://www.w3.org/ns/csvw",
        "null": "",
        "dc:title": "Digital progress of Welsh public services",
        "tables": metadata_tables,
    }
    (target / "csv-metadata.json").write_text(json.dumps(csvw, indent=1) + "\n", encoding="utf-8")
    shutil.copyfile(
        reference.folder / "indicator_dictionary.csv", target / "indicator_dictionary.csv"
    )
    sensitivity = sensitivity_rows(con)
    for language in LANGUAGES:
        (target / f"methodology.{language}.md").write_text(
            methodology(indicators, language, sensitivity, reference.standards), encoding="utf-8"
        )
    files = sorted(p for p in target.rglob("*") if p.is_file())
    manifest = {
        "publication": publication_metadata(con, as_of, code_version),
        "files": [
            {
                "path": p.relative_to(target).as_posix(),
                "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                "bytes": p.stat().st_size,
            }
            for p in files
        ],
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return [*files, target / "manifest.json"]
