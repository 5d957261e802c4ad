"""What the CDO, the public and every body open: benchmark extracts, open data, and the way
publications are made (deterministic, atomic, only after the quality gate, safe with any name)."""

import csv
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.resources import PlatformSettings
from exports.evidence import publish_evidence_project, rank_range_label
from exports.extracts import publish_extracts
from exports.open_data import publish_open_data
from exports.release import release
from tests.conftest import CARDIFF, SWANSEA

HOSTILE = '=HYPERLINK("http://x") <script>alert(1)</script> {x} | `tick` **bold**'


def files_under(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_extract_holds_the_body_own_figures_in_every_format(pipeline_run):
    folder = pipeline_run.paths.extracts / SWANSEA
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [
            f"{SWANSEA}.html",
            f"{SWANSEA}.xlsx",
            f"{SWANSEA}_indicators.csv",
            f"{SWANSEA}_services.csv",
        ]
    )
    services = list(csv.DictReader((folder / f"{SWANSEA}_services.csv").open(encoding="utf-8")))
    assert len(services) == 12 * 13  # 12 months x 13 services, the resubmitted February once
    february_tax = next(
        s
        for s in services
        if s["period"] == "2026-02" and s["service_code"] == "la_council_tax_payment"
    )
    assert (february_tax["transactions_online"], february_tax["revised"]) == ("90", "true")
    workbook = load_workbook(folder / f"{SWANSEA}.xlsx")
    assert workbook.sheetnames == [
        "Summary - Crynodeb",
        "Indicators - Dangosyddion",
        "Services - Gwasanaethau",
        "Trend - Tuedd",
        "Returns - Ffurflenni",
    ]
    sheet_rows = list(workbook["Services - Gwasanaethau"].iter_rows(values_only=True))[1:]
    assert {r[0] for r in sheet_rows} == {f"2025-{m:02d}" for m in range(3, 13)} | {
        "2026-01",
        "2026-02",
    }
    # No other body's service-level figures anywhere in the extract.
    for path in folder.iterdir():
        text = path.read_bytes()
        assert CARDIFF.encode() not in text, path.name


def test_extract_page_is_bilingual_self_contained_and_has_charts(pipeline_run):
    html = (pipeline_run.paths.extracts / SWANSEA / f"{SWANSEA}.html").read_text()
    assert "Swansea: digital progress benchmark" in html
    assert "Abertawe: meincnod cynnydd digidol" in html
    assert html.count("<svg") >= 6  # five benchmark bars and the trend
    assert "<script" not in html and "src=" not in html and "<link" not in html
    # Swansea, 48.1 between Cardiff 72.0 and Gwynedd 0.0 under every variant: a bare rank.
    assert "Rank: 2nd of 3 in the sector, 2nd of 3 in Wales." in html
    assert "Safle: 2il o 3 yn y sector, 2il o 3 yng Nghymru." in html
    assert "Movement: no change since last month." in html
    assert "Symud: dim newid ers y mis diwethaf." in html


def test_extract_shows_why_a_small_sector_has_no_quartiles(pipeline_run):
    """Three ranked councils: no sector median or quartiles, the note in their place."""
    html = (pipeline_run.paths.extracts / SWANSEA / f"{SWANSEA}.html").read_text()
    assert "No sector quartiles: fewer than 4 ranked bodies." in html
    assert "Dim chwartelau sector: llai na 4 corff wedi&#39;u rhestru." in html
    # Each of the five indicators, in each language, has the note across the four columns.
    assert html.count('<td colspan="4">fewer than 4 ranked bodies</td>') == 5
    assert html.count('<td colspan="4">llai na 4 corff wedi&#39;u rhestru</td>') == 5


def _demo_league(demo_run) -> list[dict]:
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        cursor = con.execute("select * from marts.league_table where ranked order by body_code")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def test_demo_extract_shows_a_rank_with_its_range(demo_run):
    body = next(
        b
        for b in _demo_league(demo_run)
        if b["sector_rank_low"] < b["sector_rank_high"] and not b["sector_rank_tied"]
    )
    html = (demo_run.extracts / body["body_code"] / f"{body['body_code']}.html").read_text()
    english = rank_range_label(
        body["sector_rank"], body["sector_rank_low"], body["sector_rank_high"], False, "en"
    )
    assert english.endswith(")") and "–" in english  # a range, not a bare rank
    assert f"Rank: {english} of {body['sector_ranked_bodies']} in the sector" in html
    welsh = rank_range_label(
        body["sector_rank"], body["sector_rank_low"], body["sector_rank_high"], False, "cy"
    )
    assert f"Safle: {welsh} o {body['sector_ranked_bodies']} yn y sector" in html
    national = f"of {body['national_ranked_bodies']} in Wales"
    assert national in html


def test_demo_extract_in_a_sector_of_fewer_than_4_ranked_bodies_shows_the_note(demo_run):
    league = _demo_league(demo_run)
    body = next(b for b in league if b["sector_ranked_bodies"] < 4)
    assert body["sector_quartile"] is None
    html = (demo_run.extracts / body["body_code"] / f"{body['body_code']}.html").read_text()
    assert "No sector quartiles: fewer than 4 ranked bodies." in html
    assert '<td colspan="4">fewer than 4 ranked bodies</td>' in html
    assert '<td colspan="4">llai na 4 corff wedi&#39;u rhestru</td>' in html
    # A body of a sector with quartiles shows its own quartile instead.
    other = next(b for b in league if b["sector_ranked_bodies"] >= 4)
    html = (demo_run.extracts / other["body_code"] / f"{other['body_code']}.html").read_text()
    assert f"Quartile {other['sector_quartile']} in the sector." in html
    assert "fewer than 4 ranked bodies" not in html


def test_open_data_reads_with_nothing_but_its_metadata(pipeline_run):
    folder = pipeline_run.paths.open_data
    metadata = json.loads((folder / "csv-metadata.json").read_text())
    convert = {
        "integer": int,
        "number": float,
        "string": str,
        "boolean": lambda v: {"true": True, "false": False}[v],
    }
    for table in metadata["tables"]:
        columns = table["tableSchema"]["columns"]
        with (folder / table["url"]).open(encoding="utf-8") as handle:
            reader = csv.reader(handle)
            assert next(reader) == [c["titles"] for c in columns]
            records = [
                {
                    c["name"]: None if v == metadata["null"] else convert[c["datatype"]](v)
                    for c, v in zip(columns, line, strict=True)
                }
                for line in reader
            ]
        key = table["tableSchema"]["primaryKey"]
        assert len({tuple(r[k] for k in key) for r in records}) == len(records)
        as_json = json.loads((folder / table["url"].replace(".csv", ".json")).read_text())
        assert len(as_json) == len(records)
        if table["url"] == "league_table.csv":
            cardiff = next(r for r in records if r["body_code"] == CARDIFF)
            # 100 x (0.30 x 0.6 + 0.20 x 1 + 0.20 x 6/13 + 0.15 x 0.9 + 0.15 x 0.75) = 72.0,
            # as worked in tests/test_pipeline.py
            assert (cardiff["score"], cardiff["ranked"], cardiff["sector_rank"]) == (72.0, True, 1)
            assert (cardiff["sector_rank_low"], cardiff["sector_rank_high"]) == (1, 1)
            assert next(r for r in as_json if r["body_code"] == CARDIFF)["score"] == 72.0
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["publication"]["period"] == "2026-02"
    assert manifest["publication"]["code_version"].startswith("0.1.0")
    for entry in manifest["files"]:
        data = (folder / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert {e["path"] for e in manifest["files"]} >= {
        "league_table.csv",
        "league_table.json",
        "indicators.csv",
        "indicators.json",
        "csv-metadata.json",
        "indicator_dictionary.csv",
        "methodology.en.md",
        "methodology.cy.md",
        "sensitivity_agreement.csv",
    }


def publish_all(warehouse: Path, root: Path) -> Path:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        publish_evidence_project(con, root / "evidence", "0.1.0")
        publish_extracts(con, root / "extracts")
        publish_open_data(con, root / "open-data", "", "test")
    return root


def test_same_warehouse_gives_byte_identical_publications(pipeline_run, tmp_path):
    first = publish_all(pipeline_run.paths.warehouse, tmp_path / "first")
    second = publish_all(pipeline_run.paths.warehouse, tmp_path / "second")
    assert files_under(first) == files_under(second)
    assert len(files_under(first)) > 150


def test_names_with_markup_and_formulas_stay_text(pipeline_run, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(pipeline_run.paths.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        for table in ("reference.bodies", "marts.league_table", "marts.indicators_headline"):
            con.execute(
                f"update {table} set name_en = ?, name_cy = ? where body_code = ?",
                [HOSTILE, HOSTILE, CARDIFF],
            )
        con.execute(
            "update marts.service_figures set service_name_en = ? where body_code = ?",
            [HOSTILE, CARDIFF],
        )
    root = publish_all(warehouse, tmp_path / "out")
    html = (root / "extracts" / CARDIFF / f"{CARDIFF}.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    summary = load_workbook(root / "extracts" / CARDIFF / f"{CARDIFF}.xlsx")["Summary - Crynodeb"]
    assert summary["B2"].value == "'" + HOSTILE  # neutralised, not a formula
    assert summary["B2"].data_type == "s"
    league = list(csv.DictReader((root / "open-data" / "league_table.csv").open()))
    # Open data carries values as they are: neutralising is for files opened in a spreadsheet.
    assert next(r for r in league if r["body_code"] == CARDIFF)["name_en"] == HOSTILE
    # Evidence pages never carry names in their Markdown: only queries do.
    for page in (root / "evidence" / "pages").rglob("*.md"):
        assert "HYPERLINK" not in page.read_text(), page


def test_a_failed_publication_leaves_the_previous_one_intact(tmp_path):
    target = tmp_path / "open-data"
    release(target, lambda folder: (folder / "league_table.csv").write_text("v1\n"))

    def broken(folder: Path) -> None:
        (folder / "league_table.csv").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        release(target, broken)
    assert (target / "league_table.csv").read_text() == "v1\n"
    assert [p.name for p in (tmp_path / ".releases").iterdir()] == [target.resolve().name]
    release(target, lambda folder: (folder / "league_table.csv").write_text("v2\n"))
    assert (target / "league_table.csv").read_text() == "v2\n"
    assert len(list((tmp_path / ".releases").iterdir())) == 1  # the old release is gone


def test_quality_gate_fails_on_a_broken_league_table(pipeline_run, tmp_path):
    from dagster_project.quality.checks import league_table_expectations

    shutil.copyfile(pipeline_run.paths.warehouse, tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("update marts.league_table set score = 150 where body_code = ?", [CARDIFF])
    result = league_table_expectations(settings=PlatformSettings(data_root=str(tmp_path)))
    assert result.passed is False
    failures = result.metadata["failures"].value
    assert {
        "expectation": "expect_column_values_to_be_between",
        "column": "score",
        "unexpected_count": 1,
        "body_codes": [CARDIFF],
    } in failures
