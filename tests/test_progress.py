"""Progress of a long step: what the step logs and tags on its run, and what `make run` shows of
it at a terminal and in a file — through a real Dagster run in process."""

import io
import itertools

import dagster as dg

from dagster_project.console import progress_logger, stage_line
from dagster_project.progress import TAG_PREFIX, StepProgress, parse_progress, progress_line


class Clock:
    """Seconds that advance by `step` at every reading."""

    def __init__(self, step: float) -> None:
        self.ticks = itertools.count(0, step)

    def __call__(self) -> float:
        return float(next(self.ticks))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_with_progress(calls, terminal, every=2.0, step_clock=None, console_clock=None):
    """Run one asset, `submissions` (shown as the collect stage), that reports `calls` as its
    progress; returns the run's tags and how many lines the step logged."""
    logged = []

    @dg.asset(name="submissions")
    def submissions(context: dg.AssetExecutionContext) -> None:
        progress = StepProgress(context, "collect", "files read", every, step_clock or Clock(0))
        for done, total in calls:
            progress(done, total)
        logged.append(progress.reported)

    instance = dg.DagsterInstance.ephemeral()
    job = dg.define_asset_job("progress_job").resolve(
        asset_graph=dg.Definitions(assets=[submissions]).resolve_asset_graph()
    )
    job = job.with_logger_defs({"progress": progress_logger(terminal, console_clock or Clock(0))})
    result = job.execute_in_process(instance=instance, run_config={"loggers": {"progress": {}}})
    assert result.success
    return instance.get_run_by_id(result.run_id).tags, logged[0]


def test_a_progress_line_reads_back_as_written():
    line = progress_line("extracts", 1_234, 45_006, "bodies written")
    assert line == "progress extracts: 1,234 of 45,006 bodies written"
    assert parse_progress(line) == ("extracts", 1234, 45006, "bodies written")
    assert parse_progress("Quarantined x.csv: 2 problem(s)") is None


def test_lines_are_throttled_but_the_first_and_last_always_logged():
    # Readings 0, 1, 2, ... seconds, one per call; a line at most every 2 s: the calls at
    # t=0 (1 of 6), t=2 (3 of 6) and t=4 (5 of 6) are due, and the last, t=5 (6 of 6), because
    # it is the last.
    calls = [(n, 6) for n in range(1, 7)]
    tags, logged = run_with_progress(calls, io.StringIO(), step_clock=Clock(1))
    assert logged == 4
    assert tags[TAG_PREFIX + "collect"] == "6/6 files read"


def test_a_terminal_sees_the_count_rewrite_the_stage_line():
    terminal = Terminal()
    run_with_progress([(1, 3), (2, 3), (3, 3)], terminal, every=0)
    text = terminal.getvalue()
    stage = "\r\033[K" + stage_line("submissions")
    assert stage.startswith("\r\033[K  collect  landing zone and API endpoints")
    for done in (1, 2, 3):
        assert f"{stage} {done} of 3 files read" in text
    # the step's end rewrites the line once more, so the count never stays beside "done"
    assert text.endswith(f"3 of 3 files read{stage} done (0.0 s)\n")


def test_a_file_gets_a_progress_line_only_every_30_seconds():
    quiet = io.StringIO()  # the console's clock advances 1 s a reading: never 30 s apart
    run_with_progress([(n, 3) for n in (1, 2, 3)], quiet, every=0)
    assert "of 3 files read" not in quiet.getvalue()

    slow = io.StringIO()  # 40 s a reading: every progress line is shown, on a line of its own
    run_with_progress([(n, 3) for n in (1, 2, 3)], slow, every=0, console_clock=Clock(40))
    lines = slow.getvalue().splitlines()
    assert [line.strip() for line in lines if "files read" in line] == [
        "1 of 3 files read",
        "2 of 3 files read",
        "3 of 3 files read",
    ]
