"""dbt in proportion to new work: a run whose dbt inputs are all as they were at the last
successful build does not start dbt; any new file, an edit to the dbt project or its reference
data, other vars or another day builds again. Real Dagster materialisations of the dbt step
on a real DuckDB file, after the real collect step."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.resources import PlatformSettings, build_resources
from dagster_project.settings import DBT_PROJECT_DIR, DataPaths
from dagster_project.transform.assets import build_inputs, project_fingerprint, warehouse_models
from tests.conftest import CARDIFF, HAND_MADE_FILES, submission, write_landing
from tests.conftest import row as return_row


def test_project_fingerprint_follows_every_input_file_and_nothing_else(tmp_path: Path) -> None:
    project = tmp_path / "dbt"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    first = project_fingerprint(project)
    assert project_fingerprint(project) == first

    (project / "target").mkdir(exist_ok=True)
    (project / "target" / "manifest.json").write_text("{}")  # dbt's output, not an input
    assert project_fingerprint(project) == first

    seen = {first}
    for edited in (
        "seeds/bodies.csv",
        "models/marts/league_table.sql",
        "dbt_project.yml",
        "macros/as_of_filter.sql",
        "tests/generic/value_between.sql",
    ):
        path = project / edited
        path.write_bytes(path.read_bytes() + b"\n")
        fingerprint = project_fingerprint(project)
        assert fingerprint not in seen, edited
        seen.add(fingerprint)
    (project / "models" / "marts" / "new_model.sql").write_text("select 1 as x\n")
    assert project_fingerprint(project) not in seen


def dbt_step(paths: DataPaths, **settings: str) -> list[dg.AssetMaterialization]:
    """Collect what is in landing/, then the dbt step; the dbt models' materialisations."""
    from dagster_project.collect.assets import submissions

    result = dg.materialize(
        [submissions, warehouse_models],
        resources=build_resources(PlatformSettings(data_root=str(paths.root), **settings)),
        partition_key="2026-02-01",
    )
    assert result.success
    return [
        m for m in result.get_asset_materialization_events() if m.asset_key.path != ["submissions"]
    ]


def rebuilt(materialisations: list[dg.AssetMaterialization]) -> bool:
    flags = {e.materialization.metadata.get("rebuilt") for e in materialisations}
    assert len(flags) == 1, flags  # all models rebuilt, or none
    return flags != {dg.BoolMetadataValue(False)}


def marts(paths: DataPaths) -> dict[str, list[tuple]]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return {
            t: sorted(con.execute(f"select * from marts.{t}").fetchall(), key=repr)
            for t in ("league_table", "indicators_headline", "submission_returns")
        }


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    paths = DataPaths(tmp_path_factory.mktemp("incremental")).ensure()
    write_landing(paths, HAND_MADE_FILES)
    return paths


def test_a_run_with_nothing_new_does_not_start_dbt(paths: DataPaths) -> None:
    first = dbt_step(paths)
    assert rebuilt(first)
    assert len(first) > 20  # seeds and every model
    before = marts(paths)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        [state] = con.execute("select inputs, built_at from transform.dbt_build").fetchall()

    second = dbt_step(paths)
    assert not rebuilt(second)
    assert {m.asset_key for m in second} == {m.asset_key for m in first}
    assert marts(paths) == before
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("select inputs, built_at from transform.dbt_build").fetchall() == [state]


def test_a_new_file_or_other_vars_build_again(paths: DataPaths) -> None:
    dbt_step(paths)  # whatever the order of the tests, the build is current now
    before = marts(paths)
    # Cardiff resubmits February with 90 online: a file the collect step loads.
    write_landing(
        paths,
        {
            f"{CARDIFF}/{CARDIFF}_2026-02_v2.csv": submission(
                return_row(
                    CARDIFF, "2026-02", "la_council_tax_payment", 100, 90, "yes", "no", 10, 30
                )
            )
        },
    )
    assert rebuilt(dbt_step(paths))
    assert marts(paths) != before
    assert not rebuilt(dbt_step(paths))
    # Another publication month: the same files, other vars.
    assert rebuilt(dbt_step(paths, publication_period="2026-01"))
    assert not rebuilt(dbt_step(paths, publication_period="2026-01"))


def test_build_inputs_change_with_a_rejected_file_and_with_the_day(tmp_path: Path) -> None:
    """A rejected file changes submission_returns (it is listed there), so it is a new input;
    so is a new day, which can turn a provisional month final or a due return missing."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        variables = {"warehouse": "w", "as_of": ""}
        empty = build_inputs(con, variables)
        assert build_inputs(con, variables) == empty
        con.execute(
            "insert into raw.submission_files (load_sequence, file_name, content_hash, source,"
            " status, received_at, row_count, error_count, warning_count, periods)"
            " values (1, 'a.csv', 'h', 'landing', 'rejected', timestamp '2026-03-01', 3, 1, 0,"
            " ['2026-02'])"
        )
        rejected = build_inputs(con, variables)
        assert rejected != empty
        assert build_inputs(con, {**variables, "as_of": "2026-03-01"}) != rejected
        # current_date 26 hours apart (UTC-12 and UTC+14): always two different days
        con.execute("set TimeZone = 'Etc/GMT+12'")
        one_day = build_inputs(con, variables)
        con.execute("set TimeZone = 'Pacific/Kiritimati'")
        assert build_inputs(con, variables) != one_day
