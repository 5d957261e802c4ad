"""What the CDO, the public and every body open: benchmark extracts, open data, and the way
publications are made (deterministic, atomic, only after the quality gate, safe with any name)."""

import csv
import hashlib
import json
import shutil
import zipfile
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.catalogue import strings
from dagster_project.reference import load_reference
from dagster_project.resources import PlatformSettings
from exports.evidence import publish_evidence_project, rank_range_label
from exports.extracts import publish_extracts
from exports.open_data import publish_open_data
from exports.release import release
from tests.browser import audit, require_chromium, serve
from tests.conftest import CARDIFF, SWANSEA

# The indicators the dictionary publishes (score and reported): one row and one bar each.
PUBLISHED = len(load_reference().published_indicators())
SCORED_NAMES = [i["name_en"] for i in load_reference().indicators if i["role"] == "score"]
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
            f"{SWANSEA}.en.html",
            f"{SWANSEA}.cy.html",
            f"{SWANSEA}.en.xlsx",
            f"{SWANSEA}.cy.xlsx",
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
    sheets = {
        "en": ["Summary", "Indicators", "Services", "Trend", "Returns", "Service standard"],
        "cy": [
            "Crynodeb",
            "Dangosyddion",
            "Gwasanaethau",
            "Tuedd",
            "Ffurflenni",
            "Safon gwasanaeth",
        ],
    }
    months = {datetime(2025, m, 1) for m in range(3, 13)} | {
        datetime(2026, 1, 1),
        datetime(2026, 2, 1),
    }
    for language, names in sheets.items():
        workbook = load_workbook(folder / f"{SWANSEA}.{language}.xlsx")
        assert workbook.sheetnames == names
        sheet_rows = list(workbook[names[2]].iter_rows(values_only=True))[1:]
        assert len(sheet_rows) == 12 * 13
        assert {r[0] for r in sheet_rows} == months  # months as dates, not text
    # No other body's service-level figures anywhere in the extract.
    for path in folder.iterdir():
        text = path.read_bytes()
        assert CARDIFF.encode() not in text, path.name


def page(folder: Path, code: str, language: str) -> str:
    return (folder / code / f"{code}.{language}.html").read_text(encoding="utf-8")


def test_extract_pages_in_english_and_welsh_are_self_contained_and_have_charts(pipeline_run):
    english = page(pipeline_run.paths.extracts, SWANSEA, "en")
    welsh = page(pipeline_run.paths.extracts, SWANSEA, "cy")
    assert '<html lang="en">' in english and '<html lang="cy">' in welsh
    assert "Swansea: digital progress benchmark" in english
    assert "Abertawe: meincnod cynnydd digidol" in welsh
    for html in (english, welsh):
        # a benchmark bar per published indicator and the trend, in each language
        assert html.count("<svg") == PUBLISHED + 1
        assert "<script" not in html and "src=" not in html and "<link" not in html
    # Swansea, 48.1 between Cardiff 72.0 and Gwynedd 0.0 under every variant: a bare rank.
    assert "Rank: 2nd of 3 in the sector, 2nd of 3 in Wales." in english
    assert "Safle: 2il o 3 yn y sector, 2il o 3 yng Nghymru." in welsh
    assert "Movement: no change since last month." in english
    assert "Symud: dim newid ers y mis diwethaf." in welsh
    # An indicator without a target (the measures beyond the score have none) shows a dash,
    # never "– by –"; one with a target shows it and its year.
    assert "– by –" not in english and "– erbyn –" not in welsh
    assert "75.0% by December 2030" in english
    # The publication month in each language's words; 0.4417 as a percentage with one decimal.
    assert "12 months to February 2026" in english and "12 mis hyd at Chwefror 2026" in welsh
    assert '<td class="number">44.2%</td>' in english and '<td class="number">44.2%</td>' in welsh
    # Each page links to the other language's page.
    assert f'href="{SWANSEA}.cy.html" lang="cy" hreflang="cy"' in english
    assert f'href="{SWANSEA}.en.html" lang="en" hreflang="en"' in welsh


def test_extract_shows_why_a_small_sector_has_no_quartiles(pipeline_run):
    """Three ranked councils: no sector median or quartiles, the note in their place."""
    english = page(pipeline_run.paths.extracts, SWANSEA, "en")
    welsh = page(pipeline_run.paths.extracts, SWANSEA, "cy")
    assert "No sector quartiles: fewer than 4 ranked bodies." in english
    assert "Dim chwartelau sector: llai na 4 corff wedi&#39;u rhestru." in welsh
    # Each published indicator, in each language, has the note across the four columns.
    assert english.count('<td colspan="4">fewer than 4 ranked bodies</td>') == PUBLISHED
    assert welsh.count('<td colspan="4">llai na 4 corff wedi&#39;u rhestru</td>') == PUBLISHED


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
    html = page(demo_run.extracts, body["body_code"], "en")
    welsh_page = page(demo_run.extracts, body["body_code"], "cy")
    english = rank_range_label(
        body["sector_rank"], body["sector_rank_low"], body["sector_rank_high"], False, "en"
    )
    assert english.endswith(")") and "–" in english  # a range, not a bare rank
    assert f"Rank: {english} of {body['sector_ranked_bodies']} in the sector" in html
    welsh = rank_range_label(
        body["sector_rank"], body["sector_rank_low"], body["sector_rank_high"], False, "cy"
    )
    assert f"Safle: {welsh} o {body['sector_ranked_bodies']} yn y sector" in welsh_page
    national = f"of {body['national_ranked_bodies']} in Wales"
    assert national in html


def test_demo_extract_in_a_sector_of_fewer_than_4_ranked_bodies_shows_the_note(demo_run):
    league = _demo_league(demo_run)
    body = next(b for b in league if b["sector_ranked_bodies"] < 4)
    assert body["sector_quartile"] is None
    html = page(demo_run.extracts, body["body_code"], "en")
    assert "No sector quartiles: fewer than 4 ranked bodies." in html
    assert '<td colspan="4">fewer than 4 ranked bodies</td>' in html
    welsh = page(demo_run.extracts, body["body_code"], "cy")
    assert '<td colspan="4">llai na 4 corff wedi&#39;u rhestru</td>' in welsh
    # A body of a sector with quartiles shows its own quartile instead.
    other = next(b for b in league if b["sector_ranked_bodies"] >= 4)
    html = page(demo_run.extracts, other["body_code"], "en")
    assert f"Quartile {other['sector_quartile']} in the sector." in html
    # Its scored indicators have quartiles (a reported measure few bodies give may not).
    for name in SCORED_NAMES:
        row = html.split(f'<th scope="row">{name}</th>', 1)[1].split("</tr>", 1)[0]
        assert "fewer than 4 ranked bodies" not in row, name
    welsh = page(demo_run.extracts, other["body_code"], "cy")
    assert f"Chwartel {other['sector_quartile']} yn y sector." in welsh


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
    for language, sheet in (("en", "Summary"), ("cy", "Crynodeb")):
        html = page(root / "extracts", CARDIFF, language)
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        workbook = root / "extracts" / CARDIFF / f"{CARDIFF}.{language}.xlsx"
        summary = load_workbook(workbook)[sheet]
        assert summary["A2"].value == {"en": "Body", "cy": "Corff"}[language]
        # as written, a string cell with Excel's quote prefix: shown, never run
        assert (summary["B2"].value, summary["B2"].data_type) == (HOSTILE, "s")
        assert summary["B2"].quotePrefix
        assert summary["B2"].data_type == "s"
        with zipfile.ZipFile(workbook) as archive:  # no formula anywhere in the workbook
            for name in archive.namelist():
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    league = list(csv.DictReader((root / "open-data" / "league_table.csv").open()))
    # Open data carries values as they are: neutralising is for files opened in a spreadsheet.
    assert next(r for r in league if r["body_code"] == CARDIFF)["name_en"] == HOSTILE
    # Evidence pages never carry names in their Markdown: only queries do.
    for markdown in (root / "evidence" / "pages").rglob("*.md"):
        assert "HYPERLINK" not in markdown.read_text(), markdown


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


class PageOutline(HTMLParser):
    """What an extract page is made of, whatever its language: its language, section ids,
    headings, paragraphs, tables and their rows, charts and the text of its headings."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang: str | None = None
        self.sections: list[str | None] = []
        self.counts: dict[str, int] = dict.fromkeys(("h1", "h2", "p", "table", "tr", "svg"), 0)
        self.heading_texts: list[str] = []
        self._in_heading = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if tag == "section":
            self.sections.append(dict(attrs).get("id"))
        if tag in self.counts:
            self.counts[tag] += 1
        self._in_heading = tag in ("h1", "h2", "caption")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "caption"):
            self._in_heading = False

    def handle_data(self, data: str) -> None:
        if self._in_heading and data.strip():
            self.heading_texts.append(data.strip())

    @property
    def shape(self) -> tuple:
        return (self.sections, self.counts)


ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def test_every_demo_body_has_the_same_extract_in_english_and_in_welsh(demo_run):
    """A property over every body of the demo run: the Welsh page has every section, heading,
    paragraph (the letters sentence included), table row and chart of the English one, in
    Welsh: lang="cy", no English heading, month name or "pts" left in it."""
    bodies = sorted(p.name for p in demo_run.extracts.iterdir() if p.is_dir())
    assert len(bodies) >= 40
    english_words = {
        word
        for code, word in strings("en", "pages")["values"].items()
        if word != strings("cy", "pages")["values"][code]
    }
    letters_sentences = 0
    for code in bodies:
        english = PageOutline(page(demo_run.extracts, code, "en"))
        welsh_html = page(demo_run.extracts, code, "cy")
        welsh = PageOutline(welsh_html)
        assert (english.lang, welsh.lang) == ("en", "cy"), code
        assert english.sections == [
            "summary",
            "indicators",
            "trend",
            "returns",
            "services",
            "standards",
            "notes",
        ]
        assert welsh.shape == english.shape, code
        # A benchmark bar per published indicator, and the trend chart when the body has
        # monthly figures.
        assert english.counts["svg"] in (PUBLISHED, PUBLISHED + 1), code
        english_headings = set(english.heading_texts[1:])  # the first is the body's name
        assert not english_headings & set(welsh.heading_texts), code
        assert " pts" not in welsh_html, code
        assert not [m for m in ENGLISH_MONTHS if f"{m} 20" in welsh_html], code
        assert not [w for w in english_words if f">{w}<" in welsh_html], code  # statuses
        letters_sentences += "fewer letters a year" in page(demo_run.extracts, code, "en")
    assert letters_sentences > 0  # the sentence the Welsh page used to lack is in the property


def test_extract_pages_pass_axe_in_both_languages(pipeline_run, demo_run):
    """WCAG 2.x A/AA by axe-core in a real browser: 0 violations, the page's own language."""
    require_chromium()
    league = _demo_league(demo_run)
    with_quartiles = next(b["body_code"] for b in league if b["sector_ranked_bodies"] >= 4)
    pages = [(pipeline_run.paths.extracts, SWANSEA), (demo_run.extracts, with_quartiles)]
    for folder, code in pages:
        with serve(folder) as base:
            for language in ("en", "cy"):
                result = audit(f"{base}/{code}/{code}.{language}.html")
                assert result.lang == language
                assert result.violations == [], result.describe()
                assert result.console_errors == []


def test_the_quartile_note_appears_exactly_where_quartiles_are_withheld(demo_run):
    """Every sector of the demo, every indicator: a body's row says "fewer than 4 ranked
    bodies" if and only if its sector has fewer than 4 ranked bodies with a value, which is
    exactly when no median or quartiles are given; and its extract CSV says the same."""
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        rows = con.execute(
            "select body_code, indicator_code, sector_bodies_with_value, sector_median, "
            "sector_quartile_note from marts.body_benchmarks"
        ).fetchall()
    withheld = {(body, code) for body, code, bodies, _, _ in rows if bodies < 4}
    assert 0 < len(withheld) < len(rows)  # both cases occur in the demo
    for body, code, bodies, median, note in rows:
        assert (note is not None) == ((body, code) in withheld), (body, code, bodies, note)
        assert (median is None) == ((body, code) in withheld), (body, code, bodies, median)
    published = demo_run.extracts / CARDIFF / f"{CARDIFF}_indicators.csv"
    with published.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            noted = row["sector_quartile_note"] != ""
            assert noted == ((CARDIFF, row["indicator_code"]) in withheld), row
