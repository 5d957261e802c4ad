"""The Evidence project, rendered with Jinja2 from templates/evidence/ over Parquet sources
exported from the marts. Names and figures reach pages only through queries, which Evidence
shows as text; templates see only codes and the indicator dictionary."""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from dagster_project.reference import load_reference
from exports.methodology import methodology
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
