"""Every dbt unit test (the `unit_tests:` in the models' YAML) runs here, on a real DuckDB file,
since production runs leave them out: they test the SQL, which only changes with the code."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml

from dagster_project.collect.load import ensure_raw_schema
from dagster_project.resources import dbt_executable
from dagster_project.settings import DBT_PROJECT_DIR


def defined_unit_tests(project: Path) -> set[str]:
    """The unit tests named in the project's YAML, read without dbt."""
    names = set()
    for path in (project / "models").rglob("*.yml"):
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", []):
            names.add(test["name"])
    return names


def dbt(project: Path, warehouse: Path, target: Path, *args: str) -> dict[str, str]:
    """Run dbt in `project` on `warehouse`; each unit test's status by name (run_results.json)."""
    subprocess.run(
        [
            dbt_executable(),
            *args,
            "--profiles-dir",
            str(project),
            "--target-path",
            str(target),
            "--log-path",
            str(target),
            "--vars",
            # intermediate models as production builds them: tables, int_submissions_current
            # incremental (its unit tests cover both branches)
            json.dumps({"warehouse": str(warehouse), "intermediate_materialized": "table"}),
        ],
        cwd=project,
        capture_output=True,
        check=False,
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].rsplit(".", 1)[-1]: r["status"]
        for r in results
        if r["unique_id"].startswith("unit_test.")
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("unit_tests") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
    return path


@pytest.fixture(scope="module")
def unit_test_statuses(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    # A unit test reads its inputs' columns from the warehouse: seeds and every model are built
    # first, empty (--empty), in the same invocation; data tests are left out.
    target = tmp_path_factory.mktemp("target")
    return dbt(
        DBT_PROJECT_DIR, warehouse, target, "build", "--empty", "--exclude-resource-type", "test"
    )


def test_every_dbt_unit_test_runs_and_passes(unit_test_statuses: dict[str, str]) -> None:
    defined = defined_unit_tests(DBT_PROJECT_DIR)
    assert len(defined) >= 15
    assert set(unit_test_statuses) == defined
    failed = {name: status for name, status in unit_test_statuses.items() if status != "pass"}
    assert failed == {}


def test_a_wrong_expectation_fails(
    unit_test_statuses: dict[str, str], warehouse: Path, tmp_path: Path
) -> None:
    """The same runner on a copy of the project whose monthly_status_codes expects B's May
    (ended 1 month before as_of) to be final rather than provisional: that test fails."""
    project = tmp_path / "dbt"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    tests_yml = project / "models" / "marts" / "_marts_unit_tests.yml"
    right = 'period: "2025-05", services_expected: 2, online_take_up: 0.5, status: p}'
    text = tests_yml.read_text()
    assert text.count(right) == 1
    tests_yml.write_text(text.replace(right, right.replace("status: p}", 'status: ""}')))

    statuses = dbt(
        project,
        warehouse,
        tmp_path / "target",
        "test",
        "--select",
        "indicators_monthly,resource_type:unit_test",
    )
    assert statuses == {"monthly_status_codes": "fail"}
