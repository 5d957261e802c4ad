"""The Dagster instance kept under the data root: what a run did is still there after a restart,
and runs launched from the UI, the sensor or the schedule queue one at a time."""

import shutil

import dagster as dg

from dagster_project.collect.assets import submissions
from dagster_project.resources import PlatformSettings, build_resources
from dagster_project.settings import REPO_ROOT, DataPaths

SHIPPED = REPO_ROOT / "dagster_project" / "instance" / "dagster.yaml"


def test_runs_and_materialisations_survive_a_restart(tmp_path):
    home = tmp_path / "data" / ".dagster"
    home.mkdir(parents=True)
    shutil.copy(SHIPPED, home / "dagster.yaml")  # as `make run` and `make dev` do
    paths = DataPaths(tmp_path / "data").ensure()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dg.materialize(
            [submissions],
            instance=instance,
            partition_key="2026-01-01",
            resources=build_resources(PlatformSettings(data_root=str(paths.root))),
        )
        assert result.success
    with dg.DagsterInstance.from_config(str(home)) as restarted:  # a new process would do this
        [run] = restarted.get_runs()
        assert run.run_id == result.run_id and run.status == dg.DagsterRunStatus.SUCCESS
        event = restarted.get_latest_materialization_event(dg.AssetKey("submissions"))
        assert event is not None and event.run_id == result.run_id


def test_runs_from_the_ui_queue_one_at_a_time(tmp_path):
    shutil.copy(SHIPPED, tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        coordinator = instance.run_coordinator
        assert type(coordinator).__name__ == "QueuedRunCoordinator"
        assert coordinator.get_run_queue_config().max_concurrent_runs == 1
        assert not instance.telemetry_enabled
