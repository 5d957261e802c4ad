"""The generated Evidence project runs: every SQL block of every page, as Evidence would run it,
over the exported Parquet sources, returns rows, and every component refers to a query of its
page and to columns that query returns."""

import re
from pathlib import Path

import duckdb
import pytest

from exports.evidence import national_rank_label, page_strings, rank_range_label
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
        "pages/methodoleg.md",
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
        for name, sql in page_queries(page, CARDIFF).items():
            rows = con.execute(sql).fetchall()
            assert rows, f"{page.name}: query {name} returned no rows"
            ran += 1
    # index 3, body 6, data quality 4, six sectors x 2: 25 queries, in English and in Welsh
    assert ran == 50


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
    assert len(con.execute(queries["benchmarks"]).fetchall()) == 5  # shown empty, not missing


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


def test_methodology_pages_carry_the_release_sensitivity_table(pipeline_run):
    pages = pipeline_run.paths.evidence / "pages"
    english = (pages / "methodology.md").read_text(encoding="utf-8")
    welsh = (pages / "methodoleg.md").read_text(encoding="utf-8")
    # Three councils far apart: leaving out an indicator never changes their order.
    assert "| Without Online take-up | 1.000 | 3 |" in english
    assert "| Amrywiad | ρ Spearman | Cyrff rhestredig |" in welsh
