"""The code location loads as `dagster dev` loads it, with its assets, checks and job; every
asset is described and owned, and the warehouse's tables carry their row counts."""

import subprocess
import sys
from pathlib import Path

from dagster_project.definitions import defs


def test_code_location_assembles_every_stage():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "submissions",
        "reference/bodies",
        "staging/stg_submissions",
        "intermediate/int_submissions_current",
        "marts/league_table",
        "marts/indicators_monthly",
        "marts/indicators_headline",
        "evidence_project",
        "benchmark_extracts",
        "open_data",
    } <= keys
    checks = {key.name for key in graph.asset_check_keys}
    assert "league_table_expectations" in checks
    assert "unique_league_table_body_code" in checks
    assert defs.resolve_job_def("digital_progress") is not None


def test_publications_wait_for_the_league_table():
    graph = defs.resolve_asset_graph()
    for name in ("evidence_project", "benchmark_extracts", "open_data"):
        parents = {
            k.to_user_string()
            for k in graph.get(
                next(k for k in graph.get_all_asset_keys() if k.to_user_string() == name)
            ).parent_keys
        }
        assert "marts/league_table" in parents


def test_code_location_loads_without_the_venv_on_path(tmp_path):
    """`.venv/bin/dagster dev` started by hand: PATH lacks the venv, and dagster-dbt re-parses
    the dbt project as it loads (DAGSTER_IS_DEV_CLI, which `dagster dev` sets)."""
    environment = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "DAGSTER_IS_DEV_CLI": "1",
        "DAGSTER_HOME": str(tmp_path),
    }
    loaded = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            *("definitions", "validate", "-m", "dagster_project.definitions"),
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = loaded.stdout + loaded.stderr
    assert loaded.returncode == 0, output
    assert f"Running dbt command: `{Path(sys.executable).parent / 'dbt'} parse --quiet`" in output
    assert "was not found on PATH" not in output


def test_every_asset_is_described_and_owned():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, key
        # dagster-dbt's stand-in for a missing description is "dbt model <name>"
        assert not node.description.startswith(("dbt model ", "dbt seed ")), key
        assert node.owners == ["team:data-engineering"], key


def test_tables_carry_their_row_counts(pipeline_run, reference):
    counts = {}
    for event in pipeline_run.result.get_asset_materialization_events():
        row_count = event.materialization.metadata.get("dagster/row_count")
        counts[event.asset_key.to_user_string()] = row_count.value if row_count else None
    registered = len(reference.bodies)  # 42 bodies in dbt/seeds/bodies.csv
    assert counts["reference/bodies"] == registered
    assert counts["marts/league_table"] == registered  # one row per registered body
    assert counts["reference/sectors"] == 6
    assert counts["staging/stg_bodies"] is None  # a view: not counted
