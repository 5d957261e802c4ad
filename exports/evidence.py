"""The Evidence project, rendered with Jinja2 from templates/evidence/ over Parquet sources
exported from the marts. Names and figures reach pages only through queries, which Evidence
shows as text; templates see only codes and the indicator dictionary."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.catalogue import LANGUAGES, strings
from dagster_project.reference import Reference, load_reference, published_indicators
from exports.methodology import methodology
from exports.open_data import SENSITIVITY_QUERY, sensitivity_rows
from exports.release import query_fingerprint, sources_fingerprint
from exports.templating import TEMPLATES_DIR, template_environment

# What the Evidence project reads, one Parquet file per source query.
EVIDENCE_SOURCES: dict[str, str] = {
    "league_table": "select * from marts.league_table order by body_code",
    "indicators_monthly": "select * from marts.indicators_monthly order by body_code, period_month",
    "body_benchmarks": "select * from marts.body_benchmarks order by body_code, indicator_code",
    "indicator_dictionary": "select * from reference.indicator_dictionary order by indicator_code",
    "submission_returns": "select * from marts.submission_returns order by body_code, period_month",
    "indicator_progress": "select * from marts.indicator_progress "
    "order by body_code, indicator_code",
    "national_trajectories": "select * from marts.national_trajectories "
    "order by indicator_code, period_month",
    "sector_benchmarks": "select * from marts.sector_benchmarks order by sector, indicator_code",
    "submission_files": "select file_name, source, sender, status, received_at, row_count, "
    "error_count, warning_count from staging.stg_submission_files order by load_sequence",
    "wales_summary": "select * from marts.wales_summary",
    # Each body's services against the Digital Service Standard, with the services' names, and
    # beside each current assessment its 12 results with the standards' names and groups. One
    # source, never empty (every expected service has a row): Evidence writes no file for a
    # source without rows, and a page reading it would not build.
    # The date as text: a column with no value in any row reaches Evidence untyped.
    "service_standards": "select s.*, strftime(s.assessed_on, '%Y-%m-%d') as assessed_on_text, "
    "c.name_en as service_name_en, c.name_cy as service_name_cy, "
    "r.standard, r.result, d.group_code, d.group_en, d.group_cy, "
    "d.name_en as standard_name_en, d.name_cy as standard_name_cy "
    "from marts.service_standards s join reference.services c using (service_code) "
    "left join marts.service_standard_results r using (body_code, service_code) "
    "left join reference.standards d using (standard) "
    "order by s.body_code, s.service_code, r.standard",
}
BODY_CODE = re.compile(r"[A-Z0-9]+")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


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


SECTOR_CODE = re.compile(r"[a-z_]+")
PAGE_TEMPLATES = TEMPLATES_DIR / "pages"


@cache
def page_strings() -> dict:
    """The words pages and extracts read, per language, from the one catalogue
    (`dagster_project/catalogue/pages.yaml`), and the sector names from the register."""
    reference = load_reference()
    names = {language: reference.sector_names(language) for language in LANGUAGES}
    return {
        **{language: strings(language, "pages") for language in LANGUAGES},
        "sectors": {code: {lang: names[lang][code] for lang in LANGUAGES} for code in names["en"]},
    }


def ordinal(n: int, language: str) -> str:
    """5 -> "5th" (Welsh "5ed"), from the catalogue's suffixes: the one for n's last two
    digits, else for its last digit, else the usual one (11 -> "11th", 21 -> "21st"; Welsh
    21 -> "21ain", 40 -> "40fed")."""
    rule = page_strings()[language]["ordinal"]
    suffix = rule["exact"].get(str(n % 100)) or rule["last_digit"].get(str(n % 10))
    return f"{n}{suffix or rule['other']}"


def rank_label(rank: int | None, tied: bool | None, language: str) -> str | None:
    """A rank in words, "=" first when tied: "=3rd" (Welsh "=3ydd"); None when not ranked."""
    if rank is None:
        return None
    return ("=" if tied else "") + ordinal(rank, language)


def rank_range_label(
    rank: int | None,
    low: int | None,
    high: int | None,
    tied: bool | None,
    language: str,
) -> str | None:
    """A rank with the range it takes across the sensitivity analysis: "5th (4th–7th)"
    (Welsh "5ed (4ydd–7fed)"); the bare rank when the range is one place."""
    shown = rank_label(rank, tied, language)
    if shown is None or low is None or high is None or low == high:
        return shown
    return page_strings()[language]["rank_range"].format(
        rank=shown, low=ordinal(low, language), high=ordinal(high, language)
    )


def national_rank_label(
    rank: int | None,
    tied: bool | None,
    total: int | None,
    language: str,
) -> str | None:
    """The national rank among all ranked bodies: "12th of 38 in Wales"."""
    shown = rank_label(rank, tied, language)
    if shown is None:
        return None
    return page_strings()[language]["in_wales"].format(rank=shown, total=total)


def rank_labels(row: dict, language: str) -> dict[str, str | None]:
    """A league-table row's ranks in words, for pages and extracts."""
    pace_label = row.get("national_pace_rank_label") or ""
    return {
        "sector_rank_range": rank_range_label(
            row["sector_rank"],
            row["sector_rank_low"],
            row["sector_rank_high"],
            row["sector_rank_tied"],
            language,
        ),
        "national_rank_in_wales": national_rank_label(
            row["national_rank"],
            row["national_rank_tied"],
            row["national_ranked_bodies"],
            language,
        ),
        "national_pace_rank_ordinal": rank_label(
            row["national_pace_rank"], pace_label.startswith("="), language
        ),
    }


def with_rank_labels(table: pa.Table) -> pa.Table:
    """The league table with its ranks in words in each language (`sector_rank_range_en`,
    ...), so that pages select them rather than spell them out in SQL."""
    rows = table.to_pylist()
    for language in LANGUAGES:
        labels = [rank_labels(row, language) for row in rows]
        for name in ("sector_rank_range", "national_rank_in_wales", "national_pace_rank_ordinal"):
            values = pa.array([label[name] for label in labels], pa.string())
            table = table.append_column(f"{name}_{language}", values)
    return table


def registered_sectors(con: duckdb.DuckDBPyConnection) -> list[str]:
    sectors = [
        s
        for (s,) in con.execute(
            "select distinct sector from reference.bodies order by sector"
        ).fetchall()
    ]
    for sector in sectors:  # sector codes become page paths
        if not SECTOR_CODE.fullmatch(sector):
            raise ValueError(f"sector {sector!r} in the register is not [a-z_]+")
    return sectors


def site_frame() -> dict:
    """What the site's frame (pages/+layout.svelte) shows, per language: the title, the
    navigation and the other language's name; and each section's (English, Welsh) path prefix,
    longest first, so the frame links a page to the same page in the other language."""
    strings = page_strings()
    frame: dict = {}
    for language in LANGUAGES:
        t = strings[language]
        links = t["links"]
        frame[language] = {
            "title": t["site_title"],
            "home": links["home"],
            "nav_label": t["nav_label"],
            "other_language_name": links["other_language_name"],
            "table": t["table_label"],
            "no_results": t["no_results"],
            "nav": [
                {"href": links["home"], "text": t["home"]},
                {"href": links["bodies"], "text": t["bodies_title"]},
                {"href": links["data_quality"], "text": t["dq_title"]},
                {"href": links["methodology"], "text": t["methodology_title"]},
            ],
        }
    sections = ("body", "sector", "bodies", "data_quality", "methodology", "home")
    prefixes = [{lang: strings[lang]["links"][s] for lang in LANGUAGES} for s in sections]
    frame["prefixes"] = sorted(prefixes, key=lambda pair: -len(pair["en"]))
    return frame


def render_pages(
    pages: Path,
    context: dict,
    sectors: list[str],
    sensitivity: list[dict] | None = None,
    reference: Reference | None = None,
) -> list[Path]:
    """Every page twice, in English and in Welsh, from one template each; and the methodology
    written from the versioned dictionary, with the release's sensitivity table."""
    strings = page_strings()
    environment = template_environment()
    reference = reference or load_reference()
    written = []
    for language in LANGUAGES:
        t = strings[language]
        # in the register's order (sectors.csv sort_order); a code it does not name goes last
        order = {code: place for place, code in enumerate(strings["sectors"])}
        names = [
            {"code": s, "name": strings["sectors"].get(s, {}).get(language, s)}
            for s in sorted(sectors, key=lambda s: (order.get(s, len(order)), s))
        ]
        common = {**context, "t": t, "lang": language, "sectors": names}
        outputs = [
            ("index", t["paths"]["index"], {}),
            ("body", t["paths"]["body"], {}),
            ("bodies", t["paths"]["bodies"], {}),
            ("data_quality", t["paths"]["data_quality"], {}),
        ]
        outputs += [
            ("sector", t["paths"]["sector"].format(sector=s["code"]), {"sector": s}) for s in names
        ]
        for template, path, extra in outputs:
            output = pages / path
            output.parent.mkdir(parents=True, exist_ok=True)
            page = environment.get_template(f"pages/{template}.md.j2")
            output.write_text(page.render({**common, **extra}), encoding="utf-8")
            written.append(output)
        methodology_page = pages / t["paths"]["methodology"]
        methodology_page.parent.mkdir(parents=True, exist_ok=True)
        # The document opens with its own heading: Evidence is not to show the title again.
        methodology_page.write_text(
            f"---\ntitle: {t['methodology_title']}\nhide_title: true\n---\n\n"
            + methodology(reference.indicators, language, sensitivity, reference.standards),
            encoding="utf-8",
        )
        written.append(methodology_page)
    return written


def evidence_inputs(con: duckdb.DuckDBPyConnection, version: str) -> str:
    """The fingerprint of everything the project is made of: its sources' rows, the register
    and sensitivity rows its pages read, the templates, words and reference data, the version."""
    queries = [
        *EVIDENCE_SOURCES.values(),
        "select body_code, name_en, name_cy, sector from reference.bodies",
        SENSITIVITY_QUERY,
    ]
    parts = (sources_fingerprint(), version, query_fingerprint(con, queries))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def publish_evidence_project(
    con: duckdb.DuckDBPyConnection, target: Path, version: str, reference: Reference | None = None
) -> list[Path]:
    """Render the Evidence project into `target`, a fresh folder (see exports.release); its
    methodology from `reference` (default: the platform's reference folder)."""
    # The published indicators (in the score, or reported beside it); coverage (role
    # 'quality') is shown on its own.
    indicators = published_indicators(indicator_dictionary(con))
    period = con.execute("select max(period) from marts.league_table").fetchone()[0]
    context = {
        "version": version,
        "bodies": registered_bodies(con),
        "indicators": indicators,
        "scored": [i for i in indicators if i["role"] == "score"],
        # those with a national target: a body can be off track only on these
        "targeted": [i for i in indicators if i["target_value"] is not None],
        "period": period,
        "fraction_columns": "{["
        + ", ".join(f"'{i['indicator_code']}_pct'" for i in indicators if i["unit"] == "fraction")
        + "]}",
        "site": site_frame(),
        "welsh_home": page_strings()["cy"]["links"]["home"],
    }
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
    sensitivity = sensitivity_rows(con)
    written += render_pages(
        target / "pages", context, registered_sectors(con), sensitivity, reference
    )
    sources = target / "sources" / "warehouse"
    for name, sql in EVIDENCE_SOURCES.items():
        table = con.sql(sql).to_arrow_table()
        if name == "league_table":
            table = with_rank_labels(table)
        pq.write_table(table, sources / f"{name}.parquet")
        (sources / f"{name}.sql").write_text(
            f"select * from read_parquet('sources/warehouse/{name}.parquet')\n", encoding="utf-8"
        )
        written += [sources / f"{name}.parquet", sources / f"{name}.sql"]
    return written
