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


def pages(run) -> list[Path]:
    found = sorted((run.paths.evidence / "pages").rglob("*.md"))
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
    prerendered = (project / "svelte.config.js").read_text()
    assert f'"/bodies/{CARDIFF}"' in prerendered


def test_every_sql_block_runs_and_returns_rows(pipeline_run):
    con = evidence_connection(pipeline_run.paths.evidence)
    ran = 0
    for page in pages(pipeline_run):
        for name, sql in page_queries(page, CARDIFF).items():
            rows = con.execute(sql).fetchall()
            assert rows, f"{page.name}: query {name} returned no rows"
            ran += 1
    assert ran >= 6


def _columns(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    return {d[0] for d in con.execute(f"select * from ({sql}) limit 0").description}


def test_components_use_existing_queries_and_columns(pipeline_run):
    con = evidence_connection(pipeline_run.paths.evidence)
    for page in pages(pipeline_run):
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
