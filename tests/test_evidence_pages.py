"""The generated Evidence project runs: every SQL block of every page, as Evidence would run it,
over the exported Parquet sources, returns rows, and every component refers to a query of its
page and to columns that query returns."""

import re
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CARDIFF

SQL_BLOCK = re.compile(r"^```sql (\w+)\n(.*?)^```", re.S | re.M)
COMPONENT = re.compile(r"<(\w+)\b([^>]*?)/?>", re.S)
ATTRIBUTE = re.compile(r"(\w+)=(\{[^}]*\}|'[^']*'|\"[^\"]*\"|[^\s/>]+)")
COLUMN_ATTRIBUTES = ("x", "y", "value", "series", "link", "id", "fmtColumn")


def evidence_connection(project: Path) -> duckdb.DuckDBPyConnection:
    """The `warehouse` source as Evidence builds it: each sources/warehouse/*.sql over Parquet."""
    con = duckdb.connect()
    con.execute("create schema warehouse")
    for source in sorted((project / "sources" / "warehouse").glob("*.sql")):
        sql = source.read_text().replace("'sources/", f"'{project}/sources/")
        con.execute(f"create view warehouse.{source.stem} as {sql}")
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
