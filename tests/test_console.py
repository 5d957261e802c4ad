"""`make run` at the terminal: a line per stage and a summary of this run; the full log under the
data root; a second run with nothing new stays short; the run is in the instance `make dev`
shows. Runs the real `make run` twice over the hand-made submissions."""

import os
import subprocess

import dagster as dg
import pytest

from dagster_project.settings import AS_OF_ENV, PUBLICATION_PERIOD_ENV, REPO_ROOT, DataPaths
from tests.conftest import ANGLESEY, HAND_MADE_FILES, write_landing


def make_run(paths: DataPaths, **settings: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in (PUBLICATION_PERIOD_ENV, AS_OF_ENV, "DAGSTER_HOME", "MAKEFLAGS", "MAKELEVEL")
    }
    environment["DIGITAL_PROGRESS_DATA"] = str(paths.root)
    environment.update(settings)
    return subprocess.run(
        ["make", "run"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory):
    paths = DataPaths(tmp_path_factory.mktemp("console") / "data").ensure()
    write_landing(paths, HAND_MADE_FILES)  # landing/ holds files, so no demo data is made
    first = make_run(paths)
    second = make_run(paths)
    return paths, first, second


def test_first_run_reports_what_it_collected_and_published(two_runs):
    paths, first, _ = two_runs
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    received = len(HAND_MADE_FILES)  # Anglesey's file is the one rejected
    assert (
        f"  new files      {received} (0 from API endpoints): {received - 1} accepted, "
        "1 rejected" in first.stdout
    )
    assert f"      {ANGLESEY}/{ANGLESEY}_2026-02.csv" in lines
    # The site's words for the month published: the hand-made year ends in February 2026.
    assert "Publication: 12 months to 2026-02" in first.stdout
    assert [line.split()[0] for line in lines if line.endswith(" s)")] == [
        "collect",
        "model",
        "check",
        "publish",
        "publish",
        "publish",
    ]


def test_a_run_with_nothing_new_is_short_and_says_so(two_runs):
    paths, _, second = two_runs
    assert second.returncode == 0, second.stdout + second.stderr
    printed = (second.stdout + second.stderr).splitlines()
    assert len(printed) < 40, "\n".join(printed)
    assert not [line for line in printed if " DEBUG " in line or "Traceback" in line]
    received = len(HAND_MADE_FILES) - 1  # the rejected file left landing/ for quarantine/
    assert "  new files      0 (0 from API endpoints): 0 accepted, 0 rejected" in second.stdout
    assert f"  already loaded {received} (skipped, unchanged)" in second.stdout
    assert "  rejected       0," in second.stdout  # this run's, not the quarantine's


def test_full_logs_go_to_a_file_under_the_data_root(two_runs):
    paths, first, second = two_runs
    logs = sorted(paths.logs.glob("run-*.log"))
    assert len(logs) == 2
    for log, run in zip(logs, (first, second), strict=True):
        assert f"full log       {log}" in run.stdout
        assert " - DEBUG - digital_progress - " in log.read_text()  # Dagster's events
    assert "Running with dbt=" in logs[0].read_text()  # dbt's own output
    # nothing new in the second run: dbt is not started, and the log says why
    assert "Running with dbt=" not in logs[1].read_text()
    assert "dbt build not rebuilt: no new file" in logs[1].read_text()
    assert not any(p.suffix == ".log" for p in paths.exports.rglob("*"))


def test_the_instance_under_the_data_root_lists_both_runs(two_runs):
    paths, first, second = two_runs
    with dg.DagsterInstance.from_config(str(paths.root / ".dagster")) as instance:
        runs = instance.get_runs()
    assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS] * 2
    for run, output in zip(runs, (second, first), strict=True):  # newest first
        assert f"Run {run.run_id[:8]} succeeded" in output.stdout
        assert run.tags["publication"] == "12 months to 2026-02"


def test_a_failed_run_names_what_failed_and_does_not_claim_a_publication(tmp_path):
    """January 2000 is a valid month that has ended, but no body sent a return for it: the
    blocking dbt test stops the run after collecting. The summary names the failed dbt test,
    says nothing was published, and says what to do."""
    paths = DataPaths(tmp_path / "data").ensure()
    write_landing(paths, HAND_MADE_FILES)
    failed = make_run(paths, **{PUBLICATION_PERIOD_ENV: "2000-01"})
    assert failed.returncode != 0
    out = failed.stdout
    assert " FAILED in " in out
    assert "  failed at model: " in out
    assert "    dbt: Failure in test publication_month_has_enough_returns" in out
    assert "Not published by this run: the outputs below are the last publication." in out
    assert "Publication: " not in out
    assert "What to do: " in out
    assert not (paths.open_data / "league_table.csv").exists()
    assert len((out + failed.stderr).splitlines()) < 40
