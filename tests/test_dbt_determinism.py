"""The same data publishes the same league table whatever the threads: two real `dbt build`s of
one warehouse, one with DuckDB on 1 thread (and dbt on 1), one on 4 (dbt on 2), as production
builds them (intermediate tables). DuckDB sums doubles in parallel in no fixed order, so the
sums behind points and scores are exact (dbt/macros/exact_sum.sql); before that, builds at
2,000 bodies could publish different ranks for a score at x.x5."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from dagster_project.collect.load import ensure_raw_schema
from dagster_project.reference import load_reference
from dagster_project.resources import dbt_executable
from dagster_project.settings import DBT_PROJECT_DIR
from tests.test_score_properties import (
    NEWCOMER,
    PUBLICATION,
    _give_reported_measures,
    _insert,
    _rows_for,
)

PROFILE = """digital_progress:
  target: local
  outputs:
    local:
      type: duckdb
      path: {path}
      threads: {dbt_threads}
      settings:
        threads: {duckdb_threads}
"""


def _build(warehouse: Path, duckdb_threads: int, dbt_threads: int) -> None:
    profiles = warehouse.parent / f"profiles_{duckdb_threads}"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(
        PROFILE.format(path=warehouse, dbt_threads=dbt_threads, duckdb_threads=duckdb_threads)
    )
    variables = {"publication_period": PUBLICATION, "intermediate_materialized": "table"}
    subprocess.run(
        [
            dbt_executable(),
            "build",
            "--quiet",
            "--exclude-resource-type",
            "test",
            "--exclude-resource-type",
            "unit_test",
            "--vars",
            json.dumps(variables),
            "--profiles-dir",
            str(profiles),
            "--target-path",
            str(profiles / "target"),
            "--log-path",
            str(profiles / "target"),
        ],
        cwd=DBT_PROJECT_DIR,
        check=True,
    )


def _published(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            table: con.execute(f"select * from marts.{table} order by all").fetchall()
            for table in ("league_table", "sensitivity_agreement", "body_benchmarks")
        }


@pytest.fixture(scope="module")
def raw_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every registered body but one, 24 months of returns, the optional measures for most rows
    and some assessments (tests/test_score_properties.py)."""
    path = tmp_path_factory.mktemp("determinism") / "base.duckdb"
    reference = load_reference()
    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
        for sequence, body in enumerate(sorted(b["body_code"] for b in reference.bodies), 1):
            if body != NEWCOMER:
                _insert(con, _rows_for(body, reference.services_of(body), body), sequence)
        _give_reported_measures(con)
    return path


def test_builds_on_different_threads_publish_the_same_tables(raw_warehouse: Path):
    one, four = raw_warehouse.with_name("one.duckdb"), raw_warehouse.with_name("four.duckdb")
    shutil.copy(raw_warehouse, one)
    shutil.copy(raw_warehouse, four)
    _build(one, duckdb_threads=1, dbt_threads=1)
    _build(four, duckdb_threads=4, dbt_threads=2)
    first, second = _published(one), _published(four)
    assert len(first["league_table"]) == len(load_reference().bodies)
    assert first == second
