"""Progress of a long step (files read, extracts written) while it works: a line in the step's log,
which `make run` shows at the terminal, and a run tag, which the Dagster UI shows on the run.

The domain code only calls `progress(done, total)`; it never imports Dagster. At most one report
every `every` seconds, plus the first and the last, so a run of 240,000 files logs a few hundred
lines, not 240,000."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import dagster as dg

TAG_PREFIX = "digital_progress/"  # run tags, e.g. digital_progress/collect = "12000/45006 files"
# A progress line as logged: "progress collect: 12,000 of 45,006 files read"
LINE = re.compile(
    r"progress (?P<step>[a-z_]+): (?P<done>[0-9,]+) of (?P<total>[0-9,]+) (?P<what>.+)"
)


def progress_line(step: str, done: int, total: int, what: str) -> str:
    return f"progress {step}: {done:,} of {total:,} {what}"


def parse_progress(message: str) -> tuple[str, int, int, str] | None:
    """(step, done, total, what) of a progress line, else None."""
    found = LINE.fullmatch(message)
    if found is None:
        return None
    done, total = (int(found[key].replace(",", "")) for key in ("done", "total"))
    return found["step"], done, total, found["what"]


class StepProgress:
    """Call it with (done, total): logs a progress line and sets the run tag, at most every
    `every` seconds, and always for the first call and when done reaches total."""

    def __init__(
        self,
        context: dg.AssetExecutionContext,
        step: str,
        what: str,
        every: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.context, self.step, self.what = context, step, what
        self.every, self.clock = every, clock
        self.last: float | None = None
        self.reported = 0  # how many lines were logged

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        due = self.last is None or now - self.last >= self.every or done >= total
        if not due:
            return
        self.last = now
        self.reported += 1
        self.context.log.info(progress_line(self.step, done, total, self.what))
        self.context.instance.add_run_tags(
            self.context.run_id, {TAG_PREFIX + self.step: f"{done}/{total} {self.what}"}
        )
