"""Adding an indicator is one dictionary row plus its formula: a copy of the dbt project gets a
new indicator (a row in seeds/indicator_dictionary.csv, an entry in macros/indicator_formulas.sql,
the derived dbt files rewritten by `python -m dagster_project.transform.dictionary` and
`python -m exports.methodology --dbt-docs`), a real dbt
build over the hand-made returns, and a real publication; the indicator is then in every output
with the value worked out by hand.

The Dagster code location reads one dbt project (settings.DBT_PROJECT_DIR, fixed at import), so
the copy is built with the dbt CLI and published by calling the exports with the copy's
reference data, as the publish assets call them with the platform's."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from dagster_project.reference import Reference, load_reference
from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.transform.dictionary import write_generated
from expectations.runner import expand_suite, load_suite_definition
from exports.evidence import publish_evidence_project
from exports.extracts import publish_extracts
from exports.methodology import write_dbt_docs
from exports.open_data import publish_open_data
from tests.conftest import CARDIFF, GWYNEDD, PARKING, TAX

CODE = "notifications_per_1000"
NAME_EN, NAME_CY = "Messages per 1,000 transactions", "Negeseuon fesul 1,000 o drafodion"
ROW = {
    "indicator_code": CODE,
    "role": "reported",
    "name_en": NAME_EN,
    "name_cy": NAME_CY,
    "description_en": "Digital messages sent for every 1,000 completed transactions.",
    "description_cy": "Negeseuon digidol a anfonwyd am bob 1,000 o drafodion a gwblhawyd.",
    "formula": "sum(digital_notifications) / sum(transactions_total) * 1000",
    "unit": "messages per 1000 transactions",
    "polarity": "higher_is_better",
    "weight": "0",
    "decimals": "1",
    "baseline_value": "",
    "baseline_period": "",
    "target_value": "",
    "target_year": "",
    "threshold": "",
    "scope": "window",
    "goal_worst": "0",
    "goal_best": "1000",
    "min_denominator": "100",
}
FORMULA = f"""        '{CODE}': {{
            'numerator': '1000 * digital_notifications',
            'denominator': 'transactions_total'}},
"""
# Cardiff's council tax service, assessed on 15 January 2026 (current at February 2026):
# standards 1-9 met, 10 and 11 partly met, 12 not met. 9 / 12 = 0.7500 met; 1 of its 13
# expected services assessed = 0.0769. An older assessment (March 2023) has expired by then.
RESULTS = {n: "met" for n in range(1, 10)} | {10: "partly_met", 11: "partly_met", 12: "not_met"}
EXPIRED = {n: "not_met" for n in range(1, 13)}


def add_returns_of_the_new_kinds(warehouse: Path) -> None:
    """Until the collect stage writes them (issue 12, helpers A and C): Cardiff's assessment
    returns into raw.assessments, and its completion counts (February only) into the v2
    columns of raw.submissions."""
    rows = [
        (900001, "a.csv", "h1", n, CARDIFF, TAX, "2026-01-15", n, r) for n, r in RESULTS.items()
    ] + [
        (900000, "b.csv", "h0", n, CARDIFF, PARKING, "2023-03-01", n, r) for n, r in EXPIRED.items()
    ]
    with duckdb.connect(str(warehouse)) as con:
        con.executemany(
            """insert into raw.assessments (load_sequence, file_name, content_hash, loaded_at,
                row_number, body_code, service_code, assessed_on, standard, result)
            values (?, ?, ?, timestamp '2026-02-20 09:00:00', ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        # 60 online of 80 started in each of February's service-months: 0.7500
        con.execute(
            "update raw.submissions set online_started = 80 "
            "where body_code = ? and period = '2026-02'",
            [CARDIFF],
        )


# Cardiff sends 30 messages for every 100 transactions of every service-month (conftest):
# 1000 x 30 / 100 = 300.0 messages per 1,000 transactions, over 12 months and in February.
CARDIFF_VALUE = "300.0"


def copy_project(target: Path) -> Path:
    """The dbt project with one more indicator: its dictionary row and its formula."""
    project = target / "dbt"
    shutil.copytree(
        DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    dictionary = project / "seeds" / "indicator_dictionary.csv"
    with dictionary.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    # after the last published indicator, before the quality measures
    place = max(n for n, r in enumerate(rows) if r["role"] in ("score", "reported")) + 1
    rows.insert(place, ROW)
    with dictionary.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    formulas = project / "macros" / "indicator_formulas.sql"
    text = formulas.read_text(encoding="utf-8")
    end = text.index("    }) }}")
    formulas.write_text(text[:end] + FORMULA + text[end:], encoding="utf-8")
    write_generated(project)
    write_dbt_docs(project)
    return project


def dbt_build(project: Path, warehouse: Path) -> None:
    variables = {
        "warehouse": str(warehouse),
        "publication_period": "",
        "as_of": "",
        "intermediate_materialized": "table",
    }
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [
            str(dbt),
            "build",
            "--full-refresh",
            "--exclude-resource-type",
            "unit_test",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--vars",
            json.dumps(variables),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:]


class Published:
    def __init__(self, root: Path, reference: Reference, warehouse: Path) -> None:
        self.root, self.reference, self.warehouse = root, reference, warehouse

    @property
    def open_data(self) -> Path:
        return self.root / "open-data"

    @property
    def extracts(self) -> Path:
        return self.root / "extracts" / CARDIFF

    @property
    def evidence(self) -> Path:
        return self.root / "evidence"


@pytest.fixture(scope="module")
def published(pipeline_run, tmp_path_factory) -> Published:
    """The hand-made returns' raw tables, built by the copied project and published."""
    root = tmp_path_factory.mktemp("dictionary_outputs")
    project = copy_project(root)
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(pipeline_run.paths.warehouse, warehouse)
    add_returns_of_the_new_kinds(warehouse)
    dbt_build(project, warehouse)
    reference = load_reference(project / "seeds")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        publish_open_data(con, root / "open-data", "", "test", reference=reference)
        publish_extracts(con, root / "extracts", workers=1, reference=reference)
        publish_evidence_project(con, root / "evidence", "test", reference=reference)
    return Published(root, reference, warehouse)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_copy_publishes_the_new_indicator_and_the_platform_does_not(published):
    assert CODE in [i["indicator_code"] for i in published.reference.published_indicators()]
    assert CODE not in [i["indicator_code"] for i in load_reference().indicators]


def test_the_models_carry_the_indicator_with_its_columns(published):
    with duckdb.connect(str(published.warehouse), read_only=True) as con:

        def columns(table: str) -> list[str]:
            return [d[0] for d in con.execute(f"select * from {table} limit 0").description]

        for table in (
            "intermediate.int_rolling_indicators",
            "marts.indicators_headline",
            "marts.indicators_monthly",
        ):
            assert CODE in columns(table), table
        league = columns("marts.league_table")
        for part in ("", "_points", "_pace", "_direction", "_target_status", "_status"):
            assert f"{CODE}{part}" in league
        # role reported: published, benchmarked, no points
        points, value = con.execute(
            f"select {CODE}_points, {CODE} from marts.league_table where body_code = ?", [CARDIFF]
        ).fetchone()
        assert points is None and round(value, 1) == float(CARDIFF_VALUE)
        for table in ("marts.sector_benchmarks", "marts.body_benchmarks"):
            count = con.execute(
                f"select count(*) from {table} where indicator_code = ?", [CODE]
            ).fetchone()[0]
            assert count > 0, table


def test_league_table_and_indicators_csv_and_json_carry_it(published):
    league = {r["body_code"]: r for r in read_csv(published.open_data / "league_table.csv")}
    assert league[CARDIFF][CODE] == CARDIFF_VALUE
    assert league[CARDIFF][f"{CODE}_points"] == ""  # reported, not in the score
    # Gwynedd reported no volume: no value, an empty cell, never 0
    assert league[GWYNEDD][CODE] == ""
    monthly = read_csv(published.open_data / "indicators.csv")
    february = next(r for r in monthly if r["body_code"] == CARDIFF and r["period"] == "2026-02")
    assert february[CODE] == CARDIFF_VALUE
    records = json.loads((published.open_data / "league_table.json").read_text("utf-8"))
    cardiff = next(r for r in records if r["body_code"] == CARDIFF)
    assert cardiff[CODE] == float(CARDIFF_VALUE) and cardiff[f"{CODE}_points"] is None


def test_the_csvw_metadata_describes_it_from_the_dictionary(published):
    metadata = json.loads((published.open_data / "csv-metadata.json").read_text("utf-8"))
    tables = {t["url"]: t["tableSchema"]["columns"] for t in metadata["tables"]}
    for url in ("league_table.csv", "indicators.csv"):
        described = {c["name"]: c["dc:description"] for c in tables[url]}
        assert NAME_EN in described[CODE] and NAME_CY in described[CODE]
        assert described[CODE].endswith(f"({ROW['unit']})")
    copied = read_csv(published.open_data / "indicator_dictionary.csv")
    assert CODE in [r["indicator_code"] for r in copied]


def test_the_extract_shows_it_in_csv_xlsx_and_html(published):
    rows = read_csv(published.extracts / f"{CARDIFF}_indicators.csv")
    row = next(r for r in rows if r["indicator_code"] == CODE)
    assert row["value"] == CARDIFF_VALUE and row["indicator_name_cy"] == NAME_CY
    for language, name in (("en", NAME_EN), ("cy", NAME_CY)):
        workbook = load_workbook(
            io.BytesIO((published.extracts / f"{CARDIFF}.{language}.xlsx").read_bytes())
        )
        indicators, trend = workbook.worksheets[1], workbook.worksheets[3]
        values = {r[0]: r[1] for r in indicators.iter_rows(min_row=2, values_only=True)}
        assert values[name] == float(CARDIFF_VALUE)
        assert name in [c.value for c in trend[1]]
        page = (published.extracts / f"{CARDIFF}.{language}.html").read_text("utf-8")
        assert page.count(name) >= 2  # its row beside the sector, and its trend column
        assert "300.0" in page


def test_the_evidence_pages_and_their_sources_carry_it(published):
    sources = published.evidence / "sources" / "warehouse"
    assert CODE in pq.read_schema(sources / "league_table.parquet").names
    assert CODE in pq.read_schema(sources / "indicators_monthly.parquet").names
    benchmarks = pq.read_table(sources / "body_benchmarks.parquet").to_pylist()
    assert any(r["indicator_code"] == CODE for r in benchmarks)
    pages = {
        p.relative_to(published.evidence).as_posix(): p for p in published.evidence.rglob("*.md")
    }
    body_pages = [p for name, p in pages.items() if "[body_code]" in name]
    assert len(body_pages) == 2  # English and Welsh
    for page in body_pages:
        text = page.read_text("utf-8")
        assert f"<Column id={CODE} " in text  # the monthly figures' column


def test_the_methodology_states_it_in_both_languages(published):
    for language, name, description in (
        ("en", NAME_EN, ROW["description_en"]),
        ("cy", NAME_CY, ROW["description_cy"]),
    ):
        text = (published.open_data / f"methodology.{language}.md").read_text("utf-8")
        line = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        assert description in line and f"`{ROW['formula']}`" in line


def test_the_league_table_suite_checks_it(published):
    suite = expand_suite(
        load_suite_definition("league_table"), published.reference.published_indicators()
    )
    columns = next(
        e["kwargs"]["column_set"]
        for e in suite["expectations"]
        if e["type"] == "expect_table_columns_to_match_set"
    )
    for part in ("", "_points", "_pace", "_direction", "_target_status", "_status"):
        assert f"{CODE}{part}" in columns
    assert any(e["kwargs"].get("column") == CODE for e in suite["expectations"])


def test_a_measure_given_by_one_body_only_is_empty_for_the_others(published):
    league = {r["body_code"]: r for r in read_csv(published.open_data / "league_table.csv")}
    assert league[CARDIFF]["completion_rate"] == "0.7500"  # 60 / 80, February's rows only
    assert league[CARDIFF]["completion_rate_points"] == ""
    assert {league[b]["completion_rate"] for b in league if b != CARDIFF} == {""}


def test_the_service_standard_is_published_per_service_and_in_the_league_table(published):
    league = {r["body_code"]: r for r in read_csv(published.open_data / "league_table.csv")}
    cardiff = league[CARDIFF]
    assert cardiff["standards_met"] == "0.7500"  # 9 of 12; partly met is not met
    assert cardiff["services_assessed"] == "1"
    assert cardiff["services_assessed_share"] == "0.0769"  # 1 / 13
    services = {
        r["service_code"]: r
        for r in read_csv(published.open_data / "service_standards.csv")
        if r["body_code"] == CARDIFF
    }
    assert services[TAX] == {
        "body_code": CARDIFF,
        "service_code": TAX,
        "assessed_on": "2026-01-15",
        "assessment_status": "current",
        "standards_met": "9",
        "standards_partly_met": "2",
        "standards_not_met": "1",
        "standards_met_share": "0.7500",
    }
    assert services[PARKING]["assessment_status"] == "expired"
    assert services[PARKING]["standards_met"] == ""
    statuses = {r["assessment_status"] for c, r in services.items() if c not in (TAX, PARKING)}
    assert statuses == {"not_assessed"}


def test_the_extract_and_the_evidence_sources_carry_the_12_results(published):
    for language, met_word in (("en", "met"), ("cy", "wedi&#39;i bodloni")):
        page = (published.extracts / f"{CARDIFF}.{language}.html").read_text("utf-8")
        section = page.split('<section id="standards"', 1)[1].split("</section>", 1)[0]
        assert section.count(f"<td>{met_word}</td>") == 9
        assert {"en": "1 of 13", "cy": "1 o 13"}[language] in section
    sources = published.evidence / "sources" / "warehouse"
    rows = pq.read_table(sources / "service_standards.parquet").to_pylist()
    results = [r for r in rows if r["standard"] is not None]
    assert all((r["body_code"], r["service_code"]) == (CARDIFF, TAX) for r in results)
    assert sorted((r["standard"], r["result"]) for r in results) == sorted(RESULTS.items())
    # every other service of every body has its one row, without results
    with duckdb.connect(str(published.warehouse), read_only=True) as con:
        services = con.execute("select count(*) from marts.service_standards").fetchone()[0]
    assert len(rows) - len(results) == services - 1
    wales = pq.read_table(sources / "wales_summary.parquet").to_pylist()[0]
    assert wales["services_assessed"] == 1 and wales["standards_met"] == 0.75
