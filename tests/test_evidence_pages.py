"""The generated Evidence project runs: every SQL block of every page, as Evidence would run it,
over the exported Parquet sources, returns rows, and every component refers to a query of its
page and to columns that query returns."""

import re
from pathlib import Path

import duckdb
import pytest

from dagster_project.reference import load_reference
from exports.evidence import national_rank_label, page_strings, rank_range_label, site_frame
from tests.conftest import ANGLESEY, CARDIFF, POWYS, SWANSEA

SQL_BLOCK = re.compile(r"^```sql (\w+)\n(.*?)^```", re.S | re.M)
COMPONENT = re.compile(r"<(\w+)\b([^>]*?)/?>", re.S)
ATTRIBUTE = re.compile(r"(\w+)=(\{[^}]*\}|'[^']*'|\"[^\"]*\"|[^\s/>]+)")
COLUMN_ATTRIBUTES = ("x", "y", "value", "series", "link", "id", "fmtColumn")


# Evidence hands page queries its sources with integers as floats and dates as timestamps.
EVIDENCE_TYPES = {
    "TINYINT": "DOUBLE",
    "SMALLINT": "DOUBLE",
    "INTEGER": "DOUBLE",
    "BIGINT": "DOUBLE",
    "HUGEINT": "DOUBLE",
    "DATE": "TIMESTAMP",
}


def evidence_connection(project: Path) -> duckdb.DuckDBPyConnection:
    """The `warehouse` source as Evidence builds it: each sources/warehouse/*.sql over Parquet,
    with Evidence's types, so that a page showing 3 as "3.0" fails here too."""
    con = duckdb.connect()
    con.execute("create schema warehouse")
    con.execute("create schema parquet")
    for source in sorted((project / "sources" / "warehouse").glob("*.sql")):
        sql = source.read_text().replace("'sources/", f"'{project}/sources/")
        con.execute(f"create view parquet.{source.stem} as {sql}")
        columns = con.execute(f"describe parquet.{source.stem}").fetchall()
        select = ", ".join(
            f'cast("{name}" as {EVIDENCE_TYPES[kind]}) as "{name}"'
            if kind in EVIDENCE_TYPES
            else f'"{name}"'
            for name, kind, *_ in columns
        )
        con.execute(
            f"create view warehouse.{source.stem} as select {select} from parquet.{source.stem}"
        )
    return con


def page_queries(page: Path, body_code: str) -> dict[str, str]:
    text = page.read_text(encoding="utf-8")
    return {
        name: sql.replace("${params.body_code}", body_code) for name, sql in SQL_BLOCK.findall(text)
    }


def pages(paths) -> list[Path]:
    found = sorted((paths.evidence / "pages").rglob("*.md"))
    assert found, "no pages generated"
    return found


def test_project_files_exist(pipeline_run):
    project = pipeline_run.paths.evidence
    for name in (
        "package.json",
        "evidence.config.yaml",
        "evidence.settings.json",
        "sources/warehouse/connection.yaml",
        "pages/index.md",
        "pages/bodies/[body_code].md",
        "sources/warehouse/league_table.parquet",
    ):
        assert (project / name).is_file(), name
    for name in (
        "pages/cy/index.md",
        "pages/cy/cyrff/[body_code].md",
        "pages/methodology.md",
        "pages/cy/methodoleg.md",
        "pages/bodies/index.md",
        "pages/cy/cyrff/index.md",
        "pages/+layout.svelte",
        "pages/sectors/local_authority.md",
        "pages/cy/sectorau/local_authority.md",
        "pages/data-quality.md",
        "pages/cy/ansawdd-data.md",
    ):
        assert (project / name).is_file(), name
    prerendered = (project / "svelte.config.js").read_text()
    assert f'"/bodies/{CARDIFF}"' in prerendered and f'"/cy/cyrff/{CARDIFF}"' in prerendered
    welsh = (project / "pages" / "cy" / "index.md").read_text()
    assert "Cyrff rhestredig" in welsh and "name_cy as body_name" in welsh
    assert "- [Awdurdodau lleol](/cy/sectorau/local_authority)" in welsh
    for page in (project / "pages").rglob("*.md"):
        text = page.read_text()
        assert text.startswith("---\n"), page  # front matter first
        assert "[['" not in text and "[[" not in text.replace("y={[", ""), page


def test_every_sql_block_runs_and_returns_rows(demo_run):
    con = evidence_connection(demo_run.evidence)
    ran = 0
    for page in pages(demo_run):
        text = page.read_text(encoding="utf-8")
        for name, sql in page_queries(page, CARDIFF).items():
            rows = con.execute(sql).fetchall()
            # The demo data has no assessment returns yet: a query that may be empty is one the
            # page shows only when it has rows, saying so otherwise.
            guarded = f"{{#if {name}.length > 0}}" in text
            assert rows or guarded, f"{page.name}: query {name} returned no rows"
            ran += 1
    # index 3, body 10, bodies 1, data quality 5, six sectors x 5: 49 queries, in English and
    # in Welsh
    assert ran == 98


def _columns(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    return {d[0] for d in con.execute(f"select * from ({sql}) limit 0").description}


def test_components_use_existing_queries_and_columns(demo_run):
    con = evidence_connection(demo_run.evidence)
    for page in pages(demo_run):
        queries = page_queries(page, CARDIFF)
        columns = {name: _columns(con, sql) for name, sql in queries.items()}
        text = SQL_BLOCK.sub("", page.read_text(encoding="utf-8"))
        current = None  # the DataTable a <Column> belongs to
        for tag, attributes in COMPONENT.findall(text):
            attrs = dict(ATTRIBUTE.findall(attributes))
            if "data" in attrs:
                current = attrs["data"].strip("{}")
                assert current in queries, f"{page.name}: <{tag}> uses unknown query {current}"
            elif tag != "Column":
                continue
            for attribute in COLUMN_ATTRIBUTES:
                if attribute not in attrs:
                    continue
                for column in re.findall(r"\w+", attrs[attribute].strip("{}[]'\"")):
                    assert column in columns[current], (
                        f"{page.name}: <{tag} {attribute}={column}> is not a column of {current}"
                    )


@pytest.mark.parametrize("body_without_data", ["W06000001"])
def test_body_page_queries_run_for_a_body_without_data(pipeline_run, body_without_data):
    con = evidence_connection(pipeline_run.paths.evidence)
    page = pipeline_run.paths.evidence / "pages" / "bodies" / "[body_code].md"
    queries = page_queries(page, body_without_data)
    assert len(con.execute(queries["body"]).fetchall()) == 1
    # every published indicator shown, empty and said "not reported", not missing
    benchmarks = con.execute(queries["benchmarks"]).fetchall()
    assert len(benchmarks) == len(load_reference().published_indicators())
    names = [d[0] for d in con.description]
    notes = {row[names.index("value_note")] for row in benchmarks}
    assert notes == {"not reported"}
    # and its service standard section: each expected service, none assessed
    services = con.execute(queries["service_standards"]).fetchall()
    assert len(services) == len(load_reference().services_of(body_without_data))
    assert {row[1] for row in services} == {"not assessed"}


@pytest.mark.parametrize(
    ("rank", "low", "high", "tied", "english", "welsh"),
    [
        (5, 4, 7, False, "5th (4th–7th)", "5ed (4ydd–7fed)"),
        (3, 3, 3, True, "=3rd", "=3ydd"),
        (3, 2, 5, True, "=3rd (2nd–5th)", "=3ydd (2il–5ed)"),
        (12, 12, 12, False, "12th", "12fed"),
        (11, 1, 21, False, "11th (1st–21st)", "11eg (1af–21ain)"),
        (22, 13, 22, False, "22nd (13th–22nd)", "22ain (13eg–22ain)"),
        (None, None, None, None, None, None),  # not ranked: no label at all
    ],
)
def test_rank_is_shown_with_its_range_in_both_languages(rank, low, high, tied, english, welsh):
    assert rank_range_label(rank, low, high, tied, "en") == english
    assert rank_range_label(rank, low, high, tied, "cy") == welsh


def test_national_rank_is_shown_of_all_ranked_bodies_in_wales():
    assert national_rank_label(12, False, 38, "en") == "12th of 38 in Wales"
    assert national_rank_label(12, False, 38, "cy") == "12fed o 38 yng Nghymru"
    assert national_rank_label(1, True, 38, "en") == "=1st of 38 in Wales"
    assert national_rank_label(None, None, None, "cy") is None


def test_pages_show_rank_ranges_quartile_notes_and_movement_in_words(pipeline_run):
    """Three ranked councils (Cardiff 72.0, Swansea 48.1, Gwynedd 0.0), every variant keeping
    them apart: bare ranks, no quartiles (fewer than 4), no movement since January."""
    con = evidence_connection(pipeline_run.paths.evidence)
    pages = pipeline_run.paths.evidence / "pages"
    expected = {
        "en": {
            "Swansea": ("2nd", "fewer than 4 ranked bodies", "no change"),
            "Powys": (None, None, "not ranked"),
        },
        "cy": {
            "Abertawe": ("2il", "llai na 4 corff wedi'u rhestru", "dim newid"),
            "Powys": (None, None, "heb ei restru"),
        },
    }
    for language, page in (
        ("en", pages / "sectors" / "local_authority.md"),
        ("cy", pages / "cy" / "sectorau" / "local_authority.md"),
    ):
        sql = page_queries(page, "")["sector_league"]
        rows = con.execute(
            f"select body_name, sector_rank_range, sector_quartile, movement from ({sql})"
        ).fetchall()
        shown = {name: rest for name, *rest in rows}
        for name, row in expected[language].items():
            assert tuple(shown[name]) == row, (language, name)
    body = {
        "en": pages / "bodies" / "[body_code].md",
        "cy": pages / "cy" / "cyrff" / "[body_code].md",
    }
    sector = {"en": "Local authorities", "cy": "Awdurdodau lleol"}
    for language, code, words in (
        ("en", SWANSEA, "2nd of 3 in the sector · 2nd of 3 in Wales"),
        ("cy", SWANSEA, "2il o 3 yn y sector · 2il o 3 yng Nghymru"),
        ("en", CARDIFF, "1st of 3 in the sector · 1st of 3 in Wales"),
        ("en", ANGLESEY, "not ranked (insufficient data)"),
        ("cy", POWYS, "heb ei restru (data annigonol)"),
    ):
        sql = page_queries(body[language], code)["body"]
        shown = con.execute(f"select sector, rank_in_words from ({sql})").fetchone()
        assert shown == (sector[language], words)


def test_movement_and_quartiles_read_as_whole_numbers(demo_run):
    """Evidence reads integers as floats: "up 1", not "up 1.0"; quartile "2", not "2.0"."""
    con = evidence_connection(demo_run.evidence)
    for page in pages(demo_run):
        for name, sql in page_queries(page, CARDIFF).items():
            columns = _columns(con, sql)
            for column in {"movement", "sector_quartile"} & columns:
                values = {v for (v,) in con.execute(f"select {column} from ({sql})").fetchall()}
                assert not any(v and v.endswith(".0") for v in values), (page.name, name, values)


def test_every_note_in_the_demo_data_has_words_in_both_languages(demo_run):
    con = evidence_connection(demo_run.evidence)
    notes = {
        note
        for (note,) in con.execute(
            "select sector_quartile_note from warehouse.league_table union "
            "select rank_movement_note from warehouse.league_table union "
            "select sector_quartile_note from warehouse.body_benchmarks union "
            "select quartile_note from warehouse.sector_benchmarks"
        ).fetchall()
        if note is not None
    }
    assert "fewer than 4 ranked bodies" in notes  # fire and rescue: three ranked bodies
    strings = page_strings()
    assert notes <= set(strings["en"]["values"]) & set(strings["cy"]["values"])


def _methodology_pages(paths) -> tuple[str, str]:
    pages = paths.evidence / "pages"
    return (
        (pages / "methodology.md").read_text(encoding="utf-8"),
        (pages / "cy" / "methodoleg.md").read_text(encoding="utf-8"),
    )


def test_methodology_pages_carry_the_release_sensitivity_table(pipeline_run):
    english, welsh = _methodology_pages(pipeline_run.paths)
    # Three councils far apart: leaving out an indicator never changes their order.
    assert "| Without Online take-up | 1.000 | 3 |" in english
    assert "| Amrywiad | ρ Spearman | Cyrff rhestredig |" in welsh


def _page_rows(con: duckdb.DuckDBPyConnection, page: Path, query: str) -> list[dict]:
    cursor = con.execute(page_queries(page, CARDIFF)[query])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_off_track_counts_agree_with_each_body_s_targets(demo_run):
    """Every league view counts the indicators a body is off track on; counted again here from
    indicator_progress (one row per body and indicator), and, on the sector's status table,
    from the words in the row itself."""
    con = evidence_connection(demo_run.evidence)
    expected = dict(
        con.execute(
            "select body_code, count(*) filter (where target_status = 'off_track') "
            "from warehouse.indicator_progress group by body_code"
        ).fetchall()
    )
    off_track = page_strings()["cy"]["values"]["off_track"]
    pages = demo_run.evidence / "pages"
    views = [(pages / "index.md", "league"), (pages / "cy" / "index.md", "unranked")]
    views += [(page, "sector_league") for page in (pages / "sectors").glob("*.md")]
    views += [(page, "target_status") for page in (pages / "cy" / "sectorau").glob("*.md")]
    checked = 0
    for page, query in views:
        for row in _page_rows(con, page, query):
            body_code = row["body_link"].rsplit("/", 1)[1]
            assert row["indicators_off_track"] == expected[body_code], (page, body_code)
            if query == "target_status":
                words = [v for k, v in row.items() if k.endswith("_status")]
                assert words.count(off_track) == expected[body_code], (page, body_code)
            checked += 1
    assert checked > len(expected)  # every body, some more than once


def test_no_page_shows_a_sector_code(demo_run):
    """Sector names, never codes, in every column a page shows (links may carry codes)."""
    con = evidence_connection(demo_run.evidence)
    codes = set(load_reference().sector_names("en"))
    for page in pages(demo_run):
        for name in page_queries(page, CARDIFF):
            for row in _page_rows(con, page, name):
                shown = {v for k, v in row.items() if not k.endswith("_link")}
                assert not shown & codes, (page, name, shown & codes)


def test_pace_is_shown_in_percentage_points_for_rates_and_per_cent_for_letters(pipeline_run):
    """A rate's pace of 0.05 is 5 percentage points: shown as +5.0, with no % sign; letters'
    pace is a relative change, shown as a per cent."""
    con = evidence_connection(pipeline_run.paths.evidence)
    page = pipeline_run.paths.evidence / "pages" / "bodies" / "[body_code].md"
    shown = {row["indicator_name"]: row for row in _page_rows(con, page, "progress")}
    raw = dict(
        con.execute(
            "select d.name_en, p.pace from warehouse.indicator_progress p "
            "join warehouse.indicator_dictionary d using (indicator_code) where body_code = ?",
            [CARDIFF],
        ).fetchall()
    )
    assert shown["Online take-up"]["pace_fmt"] == "+0.0;-0.0;0.0"
    assert shown["Letters per 1,000 transactions"]["pace_fmt"] == "+0.0%;-0.0%;0.0%"
    for name, row in shown.items():
        if raw[name] is None:
            continue
        factor = 1 if "%" in row["pace_fmt"] else 100
        assert row["pace"] == pytest.approx(factor * raw[name]), name


def test_welsh_pages_live_under_cy_and_the_frame_links_each_page_to_its_twin(pipeline_run):
    evidence = pipeline_run.paths.evidence
    links = re.compile(r"\]\((/[^)]*)\)|'(/[a-z-]*/?)'")  # markdown links, links built in SQL
    checked = 0
    for page in (evidence / "pages").rglob("*.md"):
        welsh = page.relative_to(evidence / "pages").parts[0] == "cy"
        for link in (a or b for a, b in links.findall(page.read_text(encoding="utf-8"))):
            assert (link + "/").startswith("/cy/") == welsh, (page, link)
            checked += 1
    assert checked > 20
    frame = site_frame()
    assert {"en": "/bodies/", "cy": "/cy/cyrff/"} in frame["prefixes"]
    assert {"en": "/methodology", "cy": "/cy/methodoleg"} in frame["prefixes"]
    assert frame["prefixes"][-1] == {"en": "/", "cy": "/cy"}  # home last: every path's prefix
    for pair in frame["prefixes"]:
        assert (pair["cy"] + "/").startswith("/cy/"), pair
    assert [item["text"] for item in frame["cy"]["nav"]] == [
        "Hafan",
        "Cyrff cyhoeddus",
        "Ansawdd data",
        "Methodoleg",
    ]


def test_methodology_shows_targets_as_per_cent_and_its_heading_once(pipeline_run):
    english, welsh = _methodology_pages(pipeline_run.paths)
    # online take-up: 0.75 by December 2030, from 0.45 in 2024-01 (the dictionary)
    assert "| 75% by December 2030 (baseline 45%, 2024-01) |" in english
    assert "| 75% erbyn Rhagfyr 2030 (llinell sylfaen 45%, 2024-01) |" in welsh
    # letters per 1,000 stay numbers: 250 by December 2030, from 800
    assert "| 250 by December 2030 (baseline 800, 2024-01) |" in english
    for text in (english, welsh):
        assert "hide_title: true" in text.split("---")[1]
        assert text.count("\n# ") == 1


def test_quarantined_files_show_the_body_s_name_and_how_they_came_in_words(demo_run):
    """Not the sender's code ("RYT") nor the source's ("landing"): the body's name and the
    catalogue's words, in the page's language."""
    con = evidence_connection(demo_run.evidence)
    bodies = {b["body_code"]: b for b in load_reference().bodies}
    sources = con.execute(
        "select distinct source from warehouse.submission_files where status = 'rejected'"
    ).fetchall()
    assert sources, "the demo data has no quarantined file"
    root = demo_run.evidence / "pages"
    for language, page in (
        ("en", root / "data-quality.md"),
        ("cy", root / "cy" / "ansawdd-data.md"),
    ):
        words = page_strings()[language]["values"]
        rows = _page_rows(con, page, "quarantined")
        assert rows
        names = {b[f"name_{language}"] for b in bodies.values()}
        for row in rows:
            assert row["sender"] not in bodies and row["sender"] in names, row
            assert row["source"] in {words["landing"], words["api"]}, row


def test_evidence_s_english_controls_are_turned_off_on_every_table_and_chart(demo_run):
    """Download, full-screen and save-image buttons speak English only: every table and chart
    turns them off (`isFullPage` also leaves out the table's hidden full-screen copy)."""
    checked = 0
    for page in pages(demo_run):
        text = SQL_BLOCK.sub("", page.read_text(encoding="utf-8"))
        for tag, attributes in COMPONENT.findall(text):
            attrs = dict(ATTRIBUTE.findall(attributes))
            if tag == "DataTable":
                assert attrs.get("downloadable") == "false", (page, attrs)
                assert attrs.get("isFullPage") == "true", (page, attrs)
            elif tag.endswith("Chart"):
                assert attrs.get("downloadableData") == "false", (page, attrs)
                assert attrs.get("downloadableImage") == "false", (page, attrs)
            else:
                continue
            checked += 1
    assert checked > 30


def test_a_body_page_does_not_ask_the_reader_to_choose_a_body(demo_run):
    root = demo_run.evidence / "pages"
    for language, body, home in (
        ("en", root / "bodies" / "[body_code].md", root / "index.md"),
        ("cy", root / "cy" / "cyrff" / "[body_code].md", root / "cy" / "index.md"),
    ):
        choose = page_strings()[language]["choose_body"]
        assert choose not in body.read_text(encoding="utf-8")
        assert choose in home.read_text(encoding="utf-8")
