"""Recovery from what goes wrong around the files rather than in them: two runs at once, a run
killed part-way, a half-built publication, a damaged or deleted warehouse.

The drills (marked `drill`) start real runs in child processes on one data root, kill -9 them
at chosen points (during collect before and after its commit, during dbt, during publish),
start two runs together, then check every row and publication against counts worked out by
hand from the few files below. A child stops at its point through a hook this module installs
(`_child`), so that each kill lands where it is meant to, not wherever a timer happened to fall.
Run as a script, this module is that child."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.collect.api import PullResult, payload_submission
from dagster_project.collect.archive import (
    archived_path,
    last_receipt,
    read_receipts,
    receipts_path,
    record_receipts,
    sync_receipts,
    warehouse_receipts,
)
from dagster_project.collect.assets import submissions
from dagster_project.collect.cli import main as digital_progress
from dagster_project.collect.load import Received, collect_submissions
from dagster_project.definitions import ALL_ASSETS, league_table_expectations
from dagster_project.publish.assets import benchmark_extracts, evidence_project, open_data
from dagster_project.resources import PlatformSettings, build_resources
from dagster_project.settings import REPO_ROOT, DataPaths
from dagster_project.transform.assets import warehouse_models
from dagster_project.warehouse import (
    WarehouseDamaged,
    acquire_writer_lock,
    check_warehouse,
    release_writer_lock,
    writer_lock,
)
from exports.release import RELEASES, release, remove_leftovers
from tests.conftest import (
    ANGLESEY,
    CARDIFF,
    PARKING,
    SWANSEA,
    TAX,
    other_bodies_return,
    row,
    submission,
    write_landing,
)

PARTITION = "2026-01-01"

# Batch A: Cardiff 40 and Swansea 50 online of 100, one small return from each of the other 39
# registered bodies (42 in the register), all accepted: 41 files, a row each. Anglesey claims
# 150 of 100 online on its second row: its file is rejected whole.
BATCH_A = {
    f"{CARDIFF}/jan.csv": submission(row(CARDIFF, "2026-01", TAX, 100, 40, "yes", "no", 1, 1)),
    f"{SWANSEA}/jan.csv": submission(row(SWANSEA, "2026-01", TAX, 100, 50, "yes", "no", 1, 1)),
    f"{ANGLESEY}/jan.csv": submission(
        row(ANGLESEY, "2026-01", TAX, 100, 50, "yes", "no", 1, 1),
        row(ANGLESEY, "2026-01", PARKING, 100, 150, "yes", "no", 1, 1),
    ),
    **other_bodies_return(("2026-01",), besides=(CARDIFF, SWANSEA, ANGLESEY)),
}
# Batch B, received later: Cardiff corrects January to 90 online; it supersedes the 40.
BATCH_B = {
    f"{CARDIFF}/jan-corrected.csv": submission(
        row(CARDIFF, "2026-01", TAX, 100, 90, "yes", "no", 1, 1)
    )
}
FILES_A, ROWS_A = 42, 41  # recorded files (41 accepted + Anglesey rejected), rows loaded
FILES, ACCEPTED, ROWS = 43, 42, 42  # after batch B too


def raw_counts(paths: DataPaths) -> tuple[int, int]:
    """(files recorded, rows loaded); (0, 0) before the warehouse has its raw tables."""
    if not paths.warehouse.exists():
        return (0, 0)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        try:
            return con.execute(
                "select (select count(*) from raw.submission_files), "
                "(select count(*) from raw.submissions)"
            ).fetchone()
        except duckdb.CatalogException:
            return (0, 0)


def raw_tables(paths: DataPaths) -> dict[str, list[tuple]]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return {
            table: con.execute(f"select * from raw.{table} order by all").fetchall()
            for table in ("submission_files", "submissions", "submission_problems")
        }


def releases_in(paths: DataPaths) -> list[str]:
    return sorted(p.name for p in (paths.exports / RELEASES).iterdir())


# A killed publication ---------------------------------------------------------------------


def test_next_release_removes_what_a_killed_one_left_but_not_the_live_one(tmp_path):
    exports = tmp_path / "exports"
    open_data_target, extracts_target = exports / "open-data", exports / "extracts"
    release(open_data_target, lambda f: (f / "league_table.csv").write_text("v1\n"))
    release(extracts_target, lambda f: (f / "W06000015.csv").write_text("e1\n"))
    releases = exports / RELEASES
    # What kill -9 leaves: a half-built folder, and a link that was never switched into place.
    half_built = releases / "open-data-k1lled00"
    half_built.mkdir()
    (half_built / "league_table.csv").write_text("half\n")
    (releases / ".open-data-k1lled00.link").symlink_to(half_built.name)
    live = open_data_target.resolve()

    assert remove_leftovers(open_data_target) == [".open-data-k1lled00.link", "open-data-k1lled00"]
    assert sorted(releases.iterdir()) == sorted([live, extracts_target.resolve()])
    assert (open_data_target / "league_table.csv").read_text() == "v1\n"

    half_built.mkdir()  # killed again; the next release cleans up on its own
    release(open_data_target, lambda f: (f / "league_table.csv").write_text("v2\n"))
    assert (open_data_target / "league_table.csv").read_text() == "v2\n"
    assert sorted(releases.iterdir()) == sorted(
        [open_data_target.resolve(), extracts_target.resolve()]
    )
    assert (extracts_target / "W06000015.csv").read_text() == "e1\n"  # another target's


def test_a_carried_over_folder_caught_in_a_killed_release_is_kept(tmp_path):
    target = tmp_path / "exports" / "evidence"
    release(target, lambda f: (f / "index.md").write_text("v1\n"))
    # Killed after node_modules moved into the new folder, before the switch.
    caught = tmp_path / "exports" / RELEASES / "evidence-k1lled00"
    (caught / "node_modules" / "duckdb").mkdir(parents=True)
    release(target, lambda f: (f / "index.md").write_text("v2\n"), carry_over=("node_modules",))
    assert (target / "node_modules" / "duckdb").is_dir()
    assert not caught.exists()


# A damaged or lost warehouse ----------------------------------------------------------------


@pytest.fixture
def collected(data_paths: DataPaths, reference, tmp_path) -> DataPaths:
    """Batch A collected without Dagster, with a payload pulled from Cardiff's endpoint and two
    links in Swansea's folder (refused unread: before, a replay dropped the second as a
    duplicate of the first); the receipts written beside the archive."""
    write_landing(data_paths, BATCH_A)
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_bytes(BATCH_A[f"{SWANSEA}/jan.csv"])
    (data_paths.landing / SWANSEA / "link.csv").symlink_to(elsewhere)
    (data_paths.landing / SWANSEA / "second-link.csv").symlink_to(elsewhere)
    payload = json.dumps(
        {
            "body_code": CARDIFF,
            "submissions": [row(CARDIFF, "2026-01", PARKING, 10, 5, "yes", "no", 1, 1)],
        }
    ).encode()
    pulled = Received(
        payload_submission(PullResult(CARDIFF, "https://x", "ok", 1, 200, "", payload)),
        "api",
        payload,
    )
    collect_submissions(data_paths, reference, datetime(2026, 2, 3, 9, 0), [pulled])
    with duckdb.connect(str(data_paths.warehouse)) as con:
        assert sync_receipts(data_paths, con) == FILES_A + 3  # the payload and the two links
    return data_paths


def test_a_truncated_warehouse_is_named_with_the_command_that_rebuilds_it(collected):
    size = collected.warehouse.stat().st_size
    with collected.warehouse.open("r+b") as file:
        file.truncate(size // 2)
    with pytest.raises(WarehouseDamaged) as caught:
        check_warehouse(collected)
    message = str(caught.value)
    assert message.startswith(f"{collected.warehouse}: the warehouse cannot be read (IO Error")
    assert f"digital-progress rebuild --data {collected.root}" in message

    # `make run` checks first: the message and exit status 2, no traceback.
    checked = subprocess.run(
        [sys.executable, "-m", "dagster_project.warehouse", "--check"],
        env={**os.environ, "DIGITAL_PROGRESS_DATA": str(collected.root)},
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert checked.returncode == 2
    assert message in checked.stderr and "Traceback" not in checked.stderr
    # A Dagster run fails before collecting, with the same message.
    write_landing(collected, BATCH_B)
    result = dg.materialize(
        [submissions],
        partition_key=PARTITION,
        resources=build_resources(PlatformSettings(data_root=str(collected.root))),
        raise_on_error=False,
    )
    failure = next(
        e for e in result.all_events if e.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE
    )
    assert message in failure.event_specific_data.error.message
    assert (collected.landing / f"{CARDIFF}/jan-corrected.csv").exists()  # not collected


def test_a_deleted_warehouse_is_not_silently_started_afresh(collected):
    collected.warehouse.unlink()
    with pytest.raises(WarehouseDamaged, match="the warehouse is missing, but the archive's"):
        check_warehouse(collected)


def test_rebuild_gives_back_every_raw_row_and_keeps_the_damaged_file(collected, reference):
    before = raw_tables(collected)
    assert [(f[3], f[5]) for f in before["submission_files"] if f[3] == "api"] == [
        ("api", "accepted")
    ]
    collected.warehouse.write_bytes(b"not a database")
    assert digital_progress(["rebuild", "--data", str(collected.root)]) == 0
    after = raw_tables(collected)
    assert after["submission_files"] == before["submission_files"]
    assert after["submissions"] == before["submissions"]
    # The link was refused unread, so the archive cannot say what its problem was: it comes
    # back rejected, as an empty file. Every other file's problems come back as they were.
    links = {f[0] for f in before["submission_files"] if f[1].endswith("link.csv")}
    assert len(links) == 2
    assert [p for p in after["submission_problems"] if p[0] not in links] == [
        p for p in before["submission_problems"] if p[0] not in links
    ]
    (kept,) = collected.root.glob("warehouse.duckdb.before-rebuild-*")
    assert kept.read_bytes() == b"not a database"
    assert not (collected.root / ".rebuild").exists()
    check_warehouse(collected)  # whole, and in step with the receipts


def test_a_damaged_archive_is_named_as_such_and_the_warehouse_left_alone(collected, capsys):
    """Found by a hostile trial: a blob whose bytes no longer match its name was reported as
    'the rules or the reference data may have changed'."""
    accepted = next(r for r in read_receipts(collected) if r["status"] == "accepted")
    blob = archived_path(collected, accepted["content_hash"])
    blob.write_bytes(b"bit rot")
    before = collected.warehouse.read_bytes()
    assert digital_progress(["rebuild", "--data", str(collected.root)]) == 2
    message = capsys.readouterr().err
    assert f"{blob}: its SHA-256 is not {accepted['content_hash']}" in message
    assert "the archive itself is damaged" in message
    assert collected.warehouse.read_bytes() == before


def test_receipt_line_cut_short_by_a_crash_is_dropped(data_paths):
    record_receipts(data_paths, [{"load_sequence": 1, "content_hash": "a"}])
    with receipts_path(data_paths).open("a") as log:
        log.write('{"load_sequence": 2, "content')  # the crash
    assert read_receipts(data_paths) == [{"load_sequence": 1, "content_hash": "a"}]
    assert last_receipt(data_paths) == {"load_sequence": 1, "content_hash": "a"}
    record_receipts(data_paths, [{"load_sequence": 2, "content_hash": "b"}])
    assert [r["content_hash"] for r in read_receipts(data_paths)] == ["a", "b"]
    assert receipts_path(data_paths).read_text().count("\n") == 2


# One writer at a time -------------------------------------------------------------------------

TAKE_LOCK = (
    "import sys, time; from pathlib import Path; "
    "from dagster_project.warehouse import writer_lock\n"
    "with writer_lock(Path(sys.argv[1])):\n"
    "    print('writing', flush=True); time.sleep(float(sys.argv[2]))\n"
)


def wait_for(predicate, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_a_second_writer_waits_for_the_first_and_says_so(tmp_path):
    root = tmp_path / "data"
    output = tmp_path / "second.log"
    with writer_lock(root), output.open("w") as log:
        second = subprocess.Popen(
            [sys.executable, "-c", TAKE_LOCK, str(root), "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
        waiting = f"waiting for another run on {root} (pid {os.getpid()}) to finish"
        wait_for(lambda: waiting in output.read_text(), "the second writer to wait")
        assert "writing" not in output.read_text()
    assert second.wait(timeout=60) == 0
    assert output.read_text().splitlines() == [waiting, "writing"]


def test_a_writer_killed_by_kill_9_frees_the_lock(tmp_path):
    root = tmp_path / "data"
    holder = subprocess.Popen(
        [sys.executable, "-c", TAKE_LOCK, str(root), "600"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert holder.stdout.readline() == "writing\n"
    holder.kill()
    holder.wait()
    told: list[str] = []
    acquire_writer_lock(root, told.append)
    release_writer_lock(root)
    assert told == []  # taken at once


# Failure drills: kill -9 at points of real runs -------------------------------------------------


class _PausesAfterCommit:
    """A DuckDB connection that stops the process right after its first commit."""

    def __init__(self, con, pause):
        self._con, self._pause = con, pause

    def __getattr__(self, name):
        return getattr(self._con, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._con.__exit__(*exc)

    def commit(self):
        self._con.commit()
        self._pause()


def _child(root: str, selection: str, pause_at: str, marker: str) -> int:
    """One real run over `root`, as Dagster runs it. With `pause_at` it stops at that point,
    drops `marker` and sleeps, for the parent to kill (`dbt` only drops the marker)."""
    from dagster_dbt import DbtCliResource

    from dagster_project.collect import load
    from dagster_project.publish import assets as publish

    def pause():
        Path(marker).write_text(str(os.getpid()))
        time.sleep(600)

    if pause_at == "collect":  # a file archived; nothing validated or recorded yet
        archive_bytes = load.archive_bytes

        def archive_then_pause(*args):
            archive_bytes(*args)
            pause()

        load.archive_bytes = archive_then_pause
    elif pause_at == "commit":  # recorded; rejected files not yet moved out of landing/
        connect = duckdb.connect
        duckdb.connect = lambda *a, **k: _PausesAfterCommit(connect(*a, **k), pause)
    elif pause_at == "dbt":
        cli = DbtCliResource.cli

        def cli_with_marker(self, *args, **kwargs):
            Path(marker).write_text(str(os.getpid()))
            return cli(self, *args, **kwargs)

        DbtCliResource.cli = cli_with_marker
    elif pause_at == "publish":  # a release built, not yet switched into place
        real_release = publish.release

        def release_then_pause(target, build, carry_over=()):
            def build_then_pause(folder):
                build(folder)
                pause()

            return real_release(target, build_then_pause, carry_over)

        publish.release = release_then_pause
    assets = {
        "collect": [submissions],
        "all": [*ALL_ASSETS, league_table_expectations],
        "publish": [benchmark_extracts, evidence_project, open_data],
    }[selection]
    result = dg.materialize(
        assets,
        resources=build_resources(PlatformSettings(data_root=root)),
        partition_key=None if selection == "publish" else PARTITION,
        raise_on_error=False,
    )
    return 0 if result.success else 1


def _group_running(group: int) -> bool:
    """Whether a process of this process group is still running (Linux /proc; a zombie has
    let go of its files, so it does not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, process_group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if state != "Z" and int(process_group) == group:
            return True
    return False


@dataclass
class Child:
    """A run in a process of its own (and its own process group, so dbt dies with it)."""

    name: str
    folder: Path
    root: Path
    selection: str
    pause_at: str = ""
    process: subprocess.Popen = field(init=False)

    def __post_init__(self):
        with self.log.open("w") as log:
            arguments = [str(self.root), self.selection, self.pause_at, str(self.marker)]
            self.process = subprocess.Popen(
                [sys.executable, __file__, *arguments],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "GX_ANALYTICS_ENABLED": "false"},
                start_new_session=True,
            )

    @property
    def marker(self) -> Path:
        return self.folder / f"{self.name}.paused"

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, predicate, what: str, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                tail = "\n".join(self.output().splitlines()[-30:])
                status = self.process.poll()
                raise AssertionError(f"{self.name}: no {what} (exit {status}):\n{tail}")
            time.sleep(0.05)

    def kill(self) -> None:
        """kill -9, to the whole process group: the run and the dbt it started. Waited for
        until no process of the group runs: `wait` reaps the run only, and a dbt still being
        torn down holds the warehouse's lock for a moment (seen on a loaded machine)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 60
        while _group_running(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def finish(self, timeout: float = 600.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise


@dataclass
class Drill:
    paths: DataPaths
    after: dict[str, dict[str, object]] = field(default_factory=dict)  # what each kill left
    together: list[Child] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def drilled(tmp_path_factory: pytest.TempPathFactory) -> Drill:
    """One data root through a run killed at each point, two runs started together and a
    publication killed and run again; what each step left is kept for the tests to check."""
    folder = tmp_path_factory.mktemp("drill")
    drill = Drill(DataPaths(folder / "data").ensure())
    paths = drill.paths

    @contextmanager
    def step(name: str):
        started = time.monotonic()
        yield
        drill.seconds[name] = round(time.monotonic() - started, 1)

    def killed_at(name: str, selection: str, pause_at: str) -> None:
        child = Child(name, folder, paths.root, selection, pause_at)
        child.wait_for(child.marker.exists, "pause")
        wal = paths.warehouse.with_name(paths.warehouse.name + ".wal")
        if pause_at == "dbt":  # kill while dbt writes (its write-ahead log is there), not before
            deadline = time.monotonic() + 60
            while not wal.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        writing = wal.exists()
        child.kill()
        drill.after[name] = {
            "writing": writing,
            "raw": raw_counts(paths),
            "anglesey_in_landing": (paths.landing / f"{ANGLESEY}/jan.csv").exists(),
            "published": (paths.open_data / "league_table.csv").exists(),
            "releases": releases_in(paths) if (paths.exports / RELEASES).exists() else [],
        }

    write_landing(paths, BATCH_A)
    with step("kill during collect, before its commit"):
        killed_at("collect", "collect", "collect")
    with step("kill during collect, after its commit"):
        killed_at("commit", "collect", "commit")
    with step("kill during dbt"):
        killed_at("dbt", "all", "dbt")
    write_landing(paths, BATCH_B)
    with step("a whole run (batch B, dbt), killed during publish"):
        killed_at("publish", "all", "publish")
    with step("two runs started together: collect, and publish again"):
        # Both start while the lock is held here, so they do contend; then both go on.
        with writer_lock(paths.root):
            drill.together = [
                Child("together-collect", folder, paths.root, "collect"),
                Child("together-publish", folder, paths.root, "publish"),
            ]
            waiting = f"waiting for another run on {paths.root} (pid {os.getpid()}) to finish"
            for child in drill.together:
                child.wait_for(lambda c=child: waiting in c.output(), "wait for the lock")
        for child in drill.together:
            child.finish()
    print("\ndrill durations (s):", drill.seconds, "total", round(sum(drill.seconds.values()), 1))
    return drill


@pytest.mark.drill
def test_a_run_killed_during_collect_or_dbt_records_each_file_once(drilled):
    after = drilled.after
    assert after["collect"]["raw"] == (0, 0)  # killed before its commit: nothing recorded
    # Killed right after its commit: every file recorded, Anglesey's not yet out of landing/.
    assert after["commit"]["raw"] == (FILES_A, ROWS_A)
    assert after["commit"]["anglesey_in_landing"]
    # The next run (killed during dbt) recognised Anglesey's file as left over: not recorded
    # twice, and gone from landing/; dbt was stopped before anything was published.
    assert after["dbt"]["writing"]  # killed while dbt was writing the warehouse
    assert after["dbt"]["raw"] == (FILES_A, ROWS_A)
    assert not after["dbt"]["anglesey_in_landing"]
    assert not after["dbt"]["published"]


@pytest.mark.drill
def test_two_runs_started_together_both_succeed(drilled):
    assert [child.finish() for child in drilled.together] == [0, 0]
    for child in drilled.together:
        assert "Traceback" not in child.output() and "Could not set lock" not in child.output()


@pytest.mark.drill
def test_after_every_kill_the_rerun_gives_exactly_the_expected_rows(drilled):
    paths = drilled.paths
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        files = con.execute(
            "select count(*), count(distinct content_hash), min(load_sequence), "
            "max(load_sequence), count(*) filter (status = 'accepted'), "
            "count(distinct received_at) from raw.submission_files"
        ).fetchone()
        rows = con.execute(
            "select count(*), count(distinct (body_code, period, service_code, content_hash)) "
            "from raw.submissions"
        ).fetchone()
        cardiff = con.execute(
            "select online_take_up from marts.league_table where body_code = ?", [CARDIFF]
        ).fetchone()
    assert files == (FILES, FILES, 1, FILES, ACCEPTED, 2)  # two batches, each file once
    assert rows == (ROWS, ROWS)
    assert cardiff == (0.9,)  # the correction of batch B supersedes the 40
    quarantined = [
        p.read_bytes()
        for p in paths.quarantine.rglob("*")
        if p.is_file() and ".report." not in p.name
    ]
    assert quarantined == [BATCH_A[f"{ANGLESEY}/jan.csv"]]  # once, however often it was seen
    # The archive's receipts are the warehouse's record, line for line.
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert read_receipts(paths) == warehouse_receipts(con)


@pytest.mark.drill
def test_a_killed_publication_is_cleaned_up_by_the_next(drilled):
    paths = drilled.paths
    assert drilled.after["publish"]["raw"] == (FILES, ROWS)  # batch B collected, dbt done
    assert len(drilled.after["publish"]["releases"]) == 1  # the one the kill left half-made
    assert not drilled.after["publish"]["published"]
    live = sorted(
        os.readlink(paths.exports / name) for name in ("evidence", "extracts", "open-data")
    )
    assert [f"{RELEASES}/{name}" for name in releases_in(paths)] == live
    with (paths.open_data / "league_table.csv").open(encoding="utf-8") as league:
        assert len(list(csv.DictReader(league))) == 42  # one row per registered body


@pytest.mark.drill
def test_a_deleted_warehouse_rebuilds_to_an_identical_league_table(drilled, tmp_path):
    copy = DataPaths(tmp_path / "data")
    shutil.copytree(drilled.paths.root, copy.root, symlinks=True)
    copy.warehouse.unlink()
    started = time.monotonic()
    assert digital_progress(["rebuild", "--data", str(copy.root)]) == 0
    rebuilt_in = time.monotonic() - started
    assert raw_tables(copy) == raw_tables(drilled.paths)
    result = dg.materialize(
        [warehouse_models, open_data],
        resources=build_resources(PlatformSettings(data_root=str(copy.root))),
    )
    assert result.success
    total = time.monotonic() - started
    print(f"\nrebuild {rebuilt_in:.1f} s; with dbt and open data {total:.1f} s")
    published = drilled.paths.open_data / "league_table.csv"
    assert (copy.open_data / "league_table.csv").read_bytes() == published.read_bytes()


if __name__ == "__main__":
    sys.exit(_child(*sys.argv[1:5]))


def test_rebuild_gives_back_the_assessment_returns_as_they_were(data_paths, reference):
    """An assessment return is replayed from the archive like a monthly one: accepted rows
    back in raw.assessments, a rejected one rejected again, each with its return_kind."""
    header = "body_code,service_code,assessed_on,standard,result\n"
    rows = "".join(f"{CARDIFF},{PARKING},2025-06-30,{n},met\n" for n in range(1, 13))
    write_landing(
        data_paths,
        {
            f"{CARDIFF}/jan.csv": submission(
                row(CARDIFF, "2026-01", TAX, 100, 40, "yes", "no", 1, 1)
            ),
            f"{CARDIFF}/assessment-{PARKING}-2025-06-30.csv": (header + rows).encode(),
            f"{CARDIFF}/assessment-bad.csv": (header + rows.replace(",12,", ",13,")).encode(),
        },
    )
    collect_submissions(data_paths, reference, datetime(2026, 2, 3, 9, 0))
    with duckdb.connect(str(data_paths.warehouse)) as con:
        assert sync_receipts(data_paths, con) == 3

    def assessments() -> tuple[list[tuple], list[tuple]]:
        with duckdb.connect(str(data_paths.warehouse), read_only=True) as con:
            return (
                con.execute("select * from raw.assessments order by all").fetchall(),
                con.execute(
                    "select file_name, status, return_kind, periods from raw.submission_files "
                    "order by file_name"
                ).fetchall(),
            )

    before = assessments()
    assert len(before[0]) == 12
    assert before[1] == [
        (f"{CARDIFF}/assessment-bad.csv", "rejected", "assessment", []),
        (f"{CARDIFF}/assessment-{PARKING}-2025-06-30.csv", "accepted", "assessment", []),
        (f"{CARDIFF}/jan.csv", "accepted", "monthly", ["2026-01"]),
    ]
    before_raw = raw_tables(data_paths)
    data_paths.warehouse.write_bytes(b"not a database")
    assert digital_progress(["rebuild", "--data", str(data_paths.root)]) == 0
    assert assessments() == before
    assert raw_tables(data_paths) == before_raw
