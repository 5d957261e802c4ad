"""`make run` at the terminal: a line per stage as the run goes, then what this run did and where
its outputs are. Everything else (Dagster's events, dbt's output, warnings) goes to a log file
under the data root, so the terminal shows what an operator acts on and the file shows the rest.
The run is recorded in the Dagster instance ($DAGSTER_HOME), so `make dev` lists it.

All the wording an operator reads at the end of `make run` is here."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

import dagster as dg
import duckdb

from dagster_project.definitions import defs
from dagster_project.progress import parse_progress
from dagster_project.settings import (
    AS_OF_ENV,
    PUBLICATION_PERIOD_ENV,
    SETTINGS_FIX,
    DataPaths,
    SettingsError,
    check_settings,
    default_data_root,
    reporting_month,
)
from dagster_project.warehouse import writer_lock

JOB_NAME = "digital_progress"
# What each step of the job is called at the terminal: its stage and what it does.
STAGES = {
    "submissions": ("collect", "landing zone and API endpoints"),
    "warehouse_models": ("model", "dbt build: seeds, models, tests"),
    "marts__league_table_league_table_expectations": ("check", "league table expectations"),
    "evidence_project": ("publish", "Evidence site"),
    "benchmark_extracts": ("publish", "benchmark extracts"),
    "open_data": ("publish", "open data"),
}
LISTED = 10  # rejected or warned files named at the terminal; the rest are in the log
PUBLICATIONS = ("evidence_project", "benchmark_extracts", "open_data")
# How dbt names what failed in its output (the log): "Failure in test <name> (<path>)".
DBT_FAILURE = re.compile(r"\b(?:Failure|Error) in (?:test|model|seed|unit_test|snapshot) \S+.*$")


def stage_line(step: str) -> str:
    stage, what = STAGES.get(step, (step, ""))
    return f"  {stage:<8} {what:<36}"


def publication_label(period: str) -> str:
    """The publication as the site names it (e.g. '12 months to 2026-09')."""
    return f"12 months to {period}"


# Progress, as the run goes --------------------------------------------------------------------


NOT_A_TERMINAL_EVERY = 30.0  # seconds between progress lines when output is a file or a pipe


class _Progress(logging.Handler):
    """Writes a line per step (its stage and how long it took), and errors, to the terminal.
    While a long step works, its progress (files read, extracts written) rewrites the step's line
    on a terminal; into a file or a pipe, a line of its own at most every 30 seconds."""

    def __init__(self, terminal: TextIO, clock=time.monotonic):
        super().__init__(logging.DEBUG)  # Dagster's step events are logged at DEBUG
        self.terminal = terminal
        self.clock = clock
        self.started: dict[str, float] = {}
        self.open_line = False
        self.shown: dict[str, float] = {}  # when a step's progress was last written
        self.is_terminal = bool(getattr(terminal, "isatty", lambda: False)())

    def _write(self, text: str, end: str = "\n") -> None:
        self.terminal.write(text + end)
        self.terminal.flush()

    def _close_line(self) -> None:
        if self.open_line:
            self._write("")
            self.open_line = False

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {}) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is None and step in STAGES and step not in self.started:
            if record.levelno >= logging.ERROR:  # Dagster's "dependencies failed"
                self._close_line()
                self._write(stage_line(step) + " not run")
            return
        progress = parse_progress(meta.get("orig_message", "")) if event is None else None
        if progress is not None and step in self.started:
            self._show_progress(step, *progress[1:])
            return
        if event is None:
            # Messages of the platform's own: errors, and a resource's warnings (the writer
            # lock's "waiting for another run"); a step's warnings are summed up at the end.
            if record.levelno >= logging.ERROR or (
                record.levelno >= logging.WARNING and meta.get("resource_name")
            ):
                self._close_line()
                self._write(f"  ! {meta.get('orig_message', record.getMessage())}")
            return
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            self._close_line()
            self.started[step] = self.clock()
            self._write(stage_line(step), end="")
            self.open_line = True
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            seconds = self.clock() - self.started.get(step, self.clock())
            outcome = "done" if kind == dg.DagsterEventType.STEP_SUCCESS else "FAILED"
            if self.is_terminal and step in self.shown:  # the line holds progress: rewrite it
                self._write("\r\033[K" + stage_line(step), end="")
            elif not self.open_line:
                self._write(stage_line(step), end="")
            self._write(f" {outcome} ({seconds:.1f} s)")
            self.open_line = False
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            self._close_line()
            self._write(stage_line(step) + " skipped")

    def _show_progress(self, step: str, done: int, total: int, what: str) -> None:
        now = self.clock()
        counted = f"{done:,} of {total:,} {what}"
        if self.is_terminal:
            self.shown[step] = now
            self._write("\r\033[K" + stage_line(step) + " " + counted, end="")
            self.open_line = True
        elif now - self.shown.get(step, self.started[step]) >= NOT_A_TERMINAL_EVERY:
            self.shown[step] = now
            self._close_line()
            self._write(f"  {'':<8} {counted}")


def progress_logger(terminal: TextIO, clock=time.monotonic) -> dg.LoggerDefinition:
    """A Dagster logger that reports the run's progress at the terminal."""

    @dg.logger(description="Progress of `make run` at the terminal.")
    def progress(_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("digital_progress.progress", logging.DEBUG)
        logger.addHandler(_Progress(terminal, clock))
        return logger

    return progress


@contextmanager
def output_to(log: TextIO) -> Iterator[None]:
    """Send everything written to stdout and stderr, by this process and the processes it starts
    (dbt), to `log` for the block."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


# What this run did ----------------------------------------------------------------------------


@dataclass
class RunSummary:
    """What one run collected, published and where it failed, read from its own events."""

    run_id: str
    success: bool
    seconds: float
    collected: Mapping[str, object] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (stage, first line)
    publication: tuple[str, int, int] | None = None  # (period, bodies received, expected)
    published: bool = False  # every publication asset materialised by this run


def _values(metadata: Mapping[str, dg.MetadataValue]) -> dict[str, object]:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def summarise(result: dg.ExecuteInProcessResult, seconds: float, paths: DataPaths) -> RunSummary:
    summary = RunSummary(result.run_id, result.success, seconds)
    materialised = set()
    for event in result.get_asset_materialization_events():
        materialised.add(event.asset_key)
        if event.asset_key == dg.AssetKey("submissions"):
            summary.collected = _values(event.materialization.metadata)
    summary.published = all(dg.AssetKey(name) in materialised for name in PUBLICATIONS)
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        if error is None or event.event_type not in (
            dg.DagsterEventType.STEP_FAILURE,
            dg.DagsterEventType.RESOURCE_INIT_FAILURE,
        ):
            continue
        where = STAGES.get(event.step_key or "", ("the start of the run",))[0]
        message = error.cause.message if error.cause else error.message
        summary.failures.append((where, _first_line(message)))
    with writer_lock(paths.root):  # a run started meanwhile may be writing it
        summary.publication = read_publication(paths.warehouse)
    return summary


def read_publication(warehouse: Path) -> tuple[str, int, int] | None:
    """The month published and how many of the bodies expected sent returns for it."""
    if not warehouse.exists():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            row = con.execute(
                "select period, bodies_received, bodies_expected "
                "from intermediate.int_publication_window"
            ).fetchone()
    except duckdb.Error:  # the models have not been built yet
        return None
    return tuple(row) if row else None


def dbt_failures(log: Path) -> list[str]:
    """What dbt says failed, from the run's log ("Failure in test ..."), each once, in order."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found = (m.group(0).strip() for m in map(DBT_FAILURE.search, text.splitlines()) if m)
    return list(dict.fromkeys(found))


def _listed(names: list[str]) -> list[str]:
    shown = [f"      {name}" for name in names[:LISTED]]
    if len(names) > LISTED:
        shown.append(f"      ... and {len(names) - LISTED} more (see the log)")
    return shown


def _kept(folder: Path) -> int:
    """How many files' reports a folder holds (each file has an HTML, a text and a JSON one)."""
    return len(list(folder.rglob("*.report.json")))


def summary_lines(summary: RunSummary, paths: DataPaths, log: Path) -> list[str]:
    """The end of `make run`: what this run did, then where everything is."""
    outcome = "succeeded" if summary.success else "FAILED"
    lines = [f"Run {summary.run_id[:8]} {outcome} in {summary.seconds:.0f} s."]
    c = summary.collected
    if c:
        rejected = list(c.get("rejected_files") or [])
        warned = list(c.get("warned_files") or [])
        new = int(c["files_accepted"]) + len(rejected)
        lines.append(
            f"  new files      {new} ({c['payloads_pulled']} from API endpoints): "
            f"{c['files_accepted']} accepted, {len(rejected)} rejected; "
            f"{c['rows_loaded']} rows loaded"
        )
        lines.append(f"  already loaded {c['files_already_loaded']} (skipped, unchanged)")
        lines.append(f"  rejected       {len(rejected)}, with reports in {paths.quarantine}")
        lines += _listed(rejected)
        lines.append(f"  warnings       {len(warned)} accepted, with reports in {paths.feedback}")
        lines += _listed(warned)
        deferred = dict(c.get("files_deferred") or {})
        if deferred:
            lines.append(f"  left in landing/ for the next run: {len(deferred)}")
            lines += _listed([f"{name}: {why}" for name, why in deferred.items()])
    for where, message in summary.failures:
        lines.append(f"  failed at {where}: {message}")
    lines += [f"    dbt: {failure}" for failure in dbt_failures(log)[:LISTED]]
    if summary.publication and summary.published:
        period, received, expected = summary.publication
        lines.append(
            f"Publication: {publication_label(period)}, "
            f"returns from {received} of {expected} bodies expected"
        )
    elif not summary.published:
        lines.append("Not published by this run: the outputs below are the last publication.")
    lines += [
        "Outputs:",
        f"  site           {paths.evidence}  (cd there; npm install; npm run build)",
        f"  extracts       {paths.extracts}/<body_code>/",
        f"  open data      {paths.open_data}",
        f"  reports        {paths.quarantine}  ({_kept(paths.quarantine)} rejected file(s) in all)",
        f"                 {paths.feedback}  ({_kept(paths.feedback)} with warnings in all)",
        f"  warehouse      {paths.warehouse}",
        f"  full log       {log}",
    ]
    if not summary.success:
        lines.append(
            "What to do: read the error above and the full log, fix the cause, then run "
            "`make run` again. Files not collected stay in landing/; nothing is loaded twice."
        )
    return lines


# The run --------------------------------------------------------------------------------------


def run(terminal: TextIO, today: date | None = None) -> int:
    """Run the job for the month that has just ended, quietly; 0 when it succeeds."""
    paths = DataPaths(default_data_root()).ensure()
    try:
        check_settings(os.environ.get(PUBLICATION_PERIOD_ENV, ""), os.environ.get(AS_OF_ENV, ""))
    except SettingsError as error:
        terminal.write(f"{error}\n{SETTINGS_FIX}\n")
        return 2
    partition = reporting_month(today or datetime.now(UTC).date())
    run_id = str(uuid.uuid4())
    started = datetime.now(UTC)
    paths.logs.mkdir(parents=True, exist_ok=True)
    log_path = paths.logs / f"run-{started:%Y%m%dT%H%M%S}-{run_id[:8]}.log"
    terminal.write(
        f"Run {run_id[:8]}: collecting returns for {partition[:7]}, then model, check, publish "
        f"(log: {log_path})\n"
    )
    terminal.flush()
    job = defs.resolve_job_def(JOB_NAME).with_logger_defs(
        {"console": dg.colored_console_logger, "progress": progress_logger(terminal)}
    )
    os.environ.setdefault("DBT_USE_COLORS", "false")  # no colour codes in the log file
    clock = time.monotonic()
    with (
        dg.DagsterInstance.get() as instance,  # $DAGSTER_HOME, as `make dev` uses
        open(log_path, "w", encoding="utf-8") as log,
        output_to(log),
    ):
        result = job.execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": "DEBUG"}}, "progress": {}}},
            instance=instance,
            partition_key=partition,
            run_id=run_id,
            raise_on_error=False,
        )
        summary = summarise(result, time.monotonic() - clock, paths)
        if summary.publication:  # shown beside the run in `make dev`
            instance.add_run_tags(
                run_id, {"publication": publication_label(summary.publication[0])}
            )
    for line in summary_lines(summary, paths, log_path):
        terminal.write(line + "\n")
    terminal.flush()
    return 0 if summary.success else 1


if __name__ == "__main__":
    # The terminal, kept aside before stdout and stderr are sent to the log file.
    with open(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8") as terminal:
        sys.exit(run(terminal))
