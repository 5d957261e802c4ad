"""Load submissions into the warehouse: every new file in landing/ and every payload pulled from
the bodies' endpoints is validated in batches; each batch's accepted files load in one
transaction; rejected files move to quarantine/ with a report. Nothing is lost: every received
file's bytes are archived under their SHA-256 before anything else happens, and a file leaves
landing/ only after it is recorded in the warehouse. The same bytes twice change nothing.

A run costs what its new files cost: an accepted file stays in landing/, and the next run knows
it by name, size and modification time without reading it. Plain CSV files are parsed by DuckDB
a batch at a time (collect/fast.py); any other file by the Python reader.

A Digital Service Standard assessment return (collect/assessments.py) comes the same way and
loads into raw.assessments, in the same transaction as its batch.

Only regular files inside landing/ are read: links, pipes and devices are refused with a report
and never opened; hidden names are listed as ignored. Whatever goes wrong with one file (even an
unexpected exception) rejects that file with a report and never stops the batch."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import re
import stat
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_project.collect.archive import archive_bytes
from dagster_project.collect.assessments import (
    INSERT_ASSESSMENTS_SQL,
    assessment_rows,
    is_assessment,
    return_kind,
)
from dagster_project.collect.cell_rules import GX_SAMPLE_ROWS
from dagster_project.collect.contract import (
    COLUMN_NAMES,
    COUNT_COLUMNS,
    FLAG_COLUMNS,
    MONEY_COLUMNS,
)
from dagster_project.collect.fast import parse_plain, plain_rows_text
from dagster_project.collect.feedback import report_name, write_reports
from dagster_project.collect.read import MAX_FILE_BYTES
from dagster_project.collect.validate import (
    HISTORY_SCHEMA,
    ParsedFile,
    Problem,
    content_hash,
    parse_submission,
    problem_counts,
    rejected,
    rows_table,
    validate_files,
)
from dagster_project.reference import Reference
from dagster_project.settings import DataPaths

RAW_SCHEMA_SQL = """
create schema if not exists raw;
create table if not exists raw.submission_files (
    load_sequence   integer primary key,
    file_name       varchar not null,
    content_hash    varchar not null,
    source          varchar not null check (source in ('landing', 'api')),
    sender          varchar,
    status          varchar not null check (status in ('accepted', 'rejected')),
    received_at     timestamp not null,
    row_count       integer not null,
    error_count     integer not null,
    warning_count   integer not null,
    periods         varchar[] not null, -- the months the file's rows are about, as written
    -- A landing file's modification time: with its name and hash, how a rejected file that a
    -- stopped run left in landing/ is recognised, rather than recorded twice.
    landing_mtime_ns bigint,
    -- A landing file's size as read: with its name and modification time, how an accepted file
    -- still in landing/ is known on the next run without reading or hashing it again.
    landing_size    bigint
);
-- Warehouses created before the columns existed
alter table raw.submission_files add column if not exists landing_mtime_ns bigint;
alter table raw.submission_files add column if not exists landing_size bigint;
-- What kind of return the file is: 'monthly' (rows of raw.submissions) or 'assessment' (rows of
-- raw.assessments, Digital Service Standard results); NULL in warehouses older than the column.
alter table raw.submission_files add column if not exists return_kind varchar;
create table if not exists raw.submission_problems (
    load_sequence   integer not null,
    row_number      integer not null,
    column_name     varchar not null,
    found           varchar not null,
    rule            varchar not null,
    severity        varchar not null,
    detail          varchar not null
);
create table if not exists raw.submissions (
    load_sequence   integer not null,
    file_name       varchar not null,
    content_hash    varchar not null,
    loaded_at       timestamp not null,
    row_number      integer not null,
    body_code       varchar not null,
    period          varchar not null,
    service_code    varchar not null,
    transactions_total        bigint not null,
    transactions_online       bigint not null,
    transactions_phone        bigint,
    transactions_face_to_face bigint,
    transactions_paper        bigint,
    transactions_other        bigint,
    available_online          boolean not null,
    digital_by_default        boolean not null,
    letters_posted            bigint not null,
    digital_notifications     bigint not null,
    notes                     varchar
);
-- The contract's optional measures (v2), NULL where a return does not give them: never 0.
alter table raw.submissions add column if not exists online_started bigint;
alter table raw.submissions add column if not exists satisfaction_responses bigint;
alter table raw.submissions add column if not exists satisfied_responses bigint;
alter table raw.submissions add column if not exists cost_total decimal(18, 2);
alter table raw.submissions add column if not exists transactions_online_welsh bigint;
-- Digital Service Standard for Wales assessments: one row per standard of one assessment of one
-- service (dbt/seeds/standards.csv), every version kept as raw.submissions keeps its rows.
create table if not exists raw.assessments (
    load_sequence   integer not null,
    file_name       varchar not null,
    content_hash    varchar not null,
    loaded_at       timestamp not null,
    row_number      integer not null,
    body_code       varchar not null,
    service_code    varchar not null,
    assessed_on     date not null,
    standard        integer not null,
    result          varchar not null check (result in ('met', 'partly_met', 'not_met'))
);
create table if not exists raw.collection_attempts (
    attempted_at    timestamp not null,
    body_code       varchar not null,
    url             varchar not null,
    status          varchar not null,
    attempts        integer not null,
    http_status     integer,
    message         varchar not null
);
"""


def _typed(column: str) -> str:
    """A validated text cell as its warehouse type; an empty cell (a measure not given) is
    NULL, never 0."""
    if column in COUNT_COLUMNS:
        return f"cast(nullif({column}, '') as bigint)"
    if column in MONEY_COLUMNS:  # at most 15 digits of pounds and 2 of pence: exact
        return f"cast(nullif({column}, '') as decimal(18,2))"
    if column in FLAG_COLUMNS:
        return f"{column} = 'yes'"
    return f"nullif({column}, '')" if column == "notes" else column


INSERT_ACCEPTED_SQL = f"""
insert into raw.submissions by name
select f.load_sequence, f.file_name, f.content_hash, $loaded_at as loaded_at, i.row_number,
       {", ".join(f"{_typed(c)} as {c}" for c in COLUMN_NAMES)}
from incoming i join accepted_files f using (file_id)
"""

# Each body's usual monthly volume per service over the last 12 months it reported: the yardstick
# for the volume warning. Current versions only.
HISTORY_SQL = """
with current_rows as (
    select body_code, service_code, period, transactions_total
    from raw.submissions
    qualify row_number() over (
        partition by body_code, service_code, period order by load_sequence desc) = 1
), recent as (
    select *, row_number() over (partition by body_code, service_code order by period desc) as n
    from current_rows
)
select body_code, service_code, median(transactions_total)::double as median_total
from recent where n <= 12
group by body_code, service_code
"""


# Until rules.py has rules of their own for these (`not_a_regular_file`, `internal_error`), both
# are reported under the nearest existing rule, with what happened as the value found.
NOT_REGULAR_RULE = "not_a_regular_file"
INTERNAL_ERROR_RULE = "internal_error"
HARD_LINK = "a hard link to a file with other names"
WAITS_BEHIND = "waits for an earlier file of the same body that could not be read"
HIDDEN = (".", "~$")  # dot files and Office lock files: listed as ignored, never read
NOTHING_READ = content_hash(b"")  # recorded for an entry that was refused without opening it

_log = logging.getLogger(__name__)


@dataclass
class Received:
    """One submission as received: where it came from and its bytes, parsed. An entry refused
    without being opened (a link, a pipe) has no bytes: `opened` is False."""

    parsed: ParsedFile
    source: str  # "landing" or "api"
    data: bytes
    landing_path: Path | None = None
    landing_mtime_ns: int | None = None
    opened: bool = True
    # (inode, size, mtime) of the landing file as read: it leaves landing/ only if still the same
    landing_identity: tuple[int, int, int] | None = None
    too_large: bool = False  # refused unread for its size: moved to quarantine/, never copied
    # The rows' text of a plain file, waiting to be parsed with its batch on the fast path
    plain: str | None = field(default=None, repr=False)


@dataclass
class CollectionResult:
    accepted: list[str] = field(default_factory=list)
    rejected: dict[str, list[Problem]] = field(default_factory=dict)
    warned: dict[str, list[Problem]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # already loaded from the same sender
    ignored: list[str] = field(default_factory=list)  # hidden names in landing/, never read
    # Rejected and recorded by an earlier run that stopped before moving them out of landing/:
    # removed now, not recorded twice.
    left_over: list[str] = field(default_factory=list)
    # Could not be read or archived: left where they are for the next run, with the reason.
    deferred: dict[str, str] = field(default_factory=dict)
    rows_loaded: int = 0  # rows of raw.submissions
    assessment_rows_loaded: int = 0  # rows of raw.assessments

    @property
    def processed(self) -> int:
        return len(self.accepted) + len(self.rejected)


@dataclass(frozen=True)
class FileRecord:
    """One row of raw.submission_files, fields in column order: a file or payload received and
    what became of it."""

    load_sequence: int
    file_name: str
    content_hash: str
    source: str
    sender: str | None
    status: str
    received_at: datetime
    row_count: int
    error_count: int
    warning_count: int
    periods: list[str]  # the months the file's rows are about, as written
    landing_mtime_ns: int | None
    landing_size: int | None  # bytes read from landing/; None for a payload or an unread entry
    return_kind: str = "monthly"  # or "assessment"


INSERT_FILES_SQL = "insert into raw.submission_files ({0}) select {0} from new_files".format(
    ", ".join(f.name for f in fields(FileRecord))
)
INSERT_PROBLEMS_SQL = "insert into raw.submission_problems select * from new_problems"
# Files read, validated and loaded together, each batch in one transaction, so memory is bounded
# by a batch, not by the landing zone: a batch closes at BATCH_FILES files or BATCH_BYTES bytes,
# whichever comes first (rows, and so memory, grow with bytes: 32 MB of returns is about 200,000
# rows, a few hundred MB in flight). Each batch costs about 0.5 s fixed (mostly one Great
# Expectations run), so batches are not made smaller than memory asks: 45,000 files are 9.
BATCH_FILES = 5_000
BATCH_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class LandingEntry:
    """One entry found in landing/, looked at without following it if it is a link."""

    path: Path
    name: str  # relative to landing/, with "/", as it may be written (valid UTF-8, printable)
    mtime_ns: int
    refused: str = ""  # what it is when it is not a regular file, e.g. "a symbolic link"
    relative: str = ""  # relative to landing/ exactly as on disk, to open it by
    identity: tuple[int, int, int] | None = None  # (inode, size, mtime) when scanned

    @property
    def on_disk(self) -> str:
        return self.relative or self.name


@dataclass
class LandingScan:
    entries: list[LandingEntry] = field(default_factory=list)  # in load order
    ignored: list[str] = field(default_factory=list)
    unlistable: dict[str, str] = field(default_factory=dict)  # folders that could not be listed


class FileTooLarge(Exception):
    """A landing file larger than MAX_FILE_BYTES: refused before it is read whole."""


def display_name(relative: str) -> str:
    """A landing name as it can be recorded and reported: bytes that are not UTF-8 become
    U+FFFD and control characters '?', so a name can never stop a report or an insert."""
    text = relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join("?" if unicodedata.category(c) == "Cc" else c for c in text)


class NotRegularFile(Exception):
    """A landing entry that is not a regular file inside landing/: never read."""


def natural_key(name: str) -> tuple:
    """Digit runs compare as numbers, so `v9` comes before `v10`; the name itself breaks ties."""
    parts = re.split(r"([0-9]+)", name)
    return tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts)), name


def _not_regular(mode: int, links: int = 1) -> str:
    if stat.S_ISREG(mode):
        # another name for a file that may lie outside the data root
        return HARD_LINK if links > 1 else ""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def scan_landing(landing: Path) -> LandingScan:
    """Every entry of landing/, never following a link: regular files to read, anything else to
    refuse, hidden names to list as ignored. In load order: the file received later loads later
    (modification time), then by name in natural order."""
    scan = LandingScan()
    # Folder by folder, without recursion: however deep a body nests folders, the scan ends.
    waiting = [landing] if landing.is_dir() else []
    while waiting:
        folder = waiting.pop()
        try:
            with os.scandir(folder) as listing:
                found = list(listing)
        except OSError as error:
            where = display_name(folder.relative_to(landing).as_posix())
            scan.unlistable[where] = type(error).__name__
            continue
        for entry in found:
            path = Path(entry.path)
            relative = path.relative_to(landing).as_posix()
            name = display_name(relative)
            if entry.name.startswith(HIDDEN):
                scan.ignored.append(name)
            elif entry.is_dir(follow_symlinks=False):
                waiting.append(path)
            else:
                status = entry.stat(follow_symlinks=False)
                scan.entries.append(
                    LandingEntry(
                        path,
                        name,
                        status.st_mtime_ns,
                        _not_regular(status.st_mode, status.st_nlink),
                        relative,
                        (status.st_ino, status.st_size, status.st_mtime_ns),
                    )
                )

    scan.entries.sort(key=lambda e: (e.mtime_ns, natural_key(e.name)))
    scan.ignored.sort()
    return scan


def landing_files(landing: Path) -> list[Path]:
    """Every regular submission file waiting in landing/, in load order; hidden files, links and
    other entries that are not regular files are left out."""
    return [e.path for e in scan_landing(landing).entries if not e.refused]


def read_landing_file(landing: Path, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file inside landing/. No link is followed on the way, and a pipe
    is never waited on: an entry swapped for a link after the scan is refused, not read. A file
    larger than `limit` raises FileTooLarge after reading at most limit + 1 bytes."""
    *folders, file_name = name.split("/")
    folder = os.open(landing, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in folders:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
            os.close(folder)
            folder = inner
        descriptor = os.open(file_name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise NotRegularFile("a symbolic link") from None
        raise
    finally:
        os.close(folder)
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        refused = _not_regular(status.st_mode, status.st_nlink)
        if refused:
            raise NotRegularFile(refused)
        data = file.read(limit + 1)
        if len(data) > limit:
            raise FileTooLarge(os.fstat(file.fileno()).st_size)
        return data


def landing_sender(relative: Path, registered: set[str]) -> str | None:
    """The body a landing file comes from: the registered body whose folder it sits in."""
    folder = relative.parts[0] if len(relative.parts) > 1 else None
    return folder if folder in registered else None


def receive_landing_file(
    path: Path, landing: Path, sender: str | None, data: bytes, name: str | None = None
) -> Received:
    """Parse a landing file; a file outside any registered body's folder is rejected."""
    relative = path.relative_to(landing)
    name = name or display_name(relative.as_posix())
    if sender is None:
        folder = relative.parts[0] if len(relative.parts) > 1 else "(landing/ itself)"
        parsed = ParsedFile(
            name, content_hash(data), problems=[Problem(name, 0, "", folder, "unknown_sender")]
        )
    else:
        parsed = parse_submission(name, data, sender=sender)
    return Received(parsed, "landing", data, path)


def _refused(entry: LandingEntry, sender: str | None, what: str) -> Received:
    problem = Problem(entry.name, 0, "", what, NOT_REGULAR_RULE)
    parsed = ParsedFile(entry.name, NOTHING_READ, sender, problems=[problem])
    return Received(
        parsed, "landing", b"", entry.path, entry.mtime_ns, opened=False,
        landing_identity=entry.identity,
    )  # fmt: skip


def _too_large(entry: LandingEntry, sender: str | None, size: int) -> Received:
    """A file over the size limit: refused after reading no more than the limit, its report in
    quarantine/ and the file moved there (renamed, never copied), so nothing is lost."""
    problem = Problem(
        entry.name, 0, "", f"{size:,} bytes", "file_too_large", f"{MAX_FILE_BYTES:,} bytes"
    )
    parsed = ParsedFile(entry.name, NOTHING_READ, sender, problems=[problem])
    return Received(
        parsed, "landing", b"", entry.path, entry.mtime_ns, opened=False,
        landing_identity=entry.identity, too_large=True,
    )  # fmt: skip


def _internal_error(name: str, step: str, error: Exception) -> Problem:
    """An unexpected failure on one file, as a problem of that file only; the trace goes to
    the log for the data team."""
    _log.error("Internal error while %s %s", step, name, exc_info=error)
    found = f"an internal error ({type(error).__name__}) while {step}"
    return Problem(name, 0, "", found, INTERNAL_ERROR_RULE, step)


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_SCHEMA_SQL)


def _quarantine(paths: DataPaths, item: Received, problems: list[Problem], received: str) -> None:
    """Copy a rejected file into quarantine/ beside its reports, under a bounded name; never
    overwrite a different file that happens to have the same name. Of an entry refused without
    being opened (a link, a pipe) only the reports are kept, never what it points to."""
    if not item.opened:
        by_name = content_hash(item.parsed.name.encode("utf-8"))
        target = paths.quarantine / report_name(item.parsed.name, by_name, hashed=True)
        write_reports(target, item.parsed, problems, received)
        if item.too_large and item.landing_path is not None and _unchanged(item):
            item.landing_path.replace(target)  # the same filesystem: a rename, not a copy
        return
    target = paths.quarantine / report_name(item.parsed.name, item.parsed.content_hash)
    if target.exists() and content_hash(target.read_bytes()) != item.parsed.content_hash:
        target = target.with_name(f"{target.stem}.{item.parsed.content_hash[:12]}{target.suffix}")
    target.write_bytes(item.data)
    write_reports(target, item.parsed, problems, received)


def _send_feedback(
    paths: DataPaths, item: Received, problems: list[Problem], received: str
) -> None:
    """A rejected file goes to quarantine/ with its reports; a file with warnings gets its
    reports in feedback/."""
    if rejected(problems):
        _quarantine(paths, item, problems, received)
    elif problems:
        target = paths.feedback / report_name(item.parsed.name, item.parsed.content_hash)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_reports(target, item.parsed, problems, received)


def _validate(
    files: list[ParsedFile],
    reference: Reference,
    now: datetime,
    history: pa.Table,
    gx_sample_rows: int = GX_SAMPLE_ROWS,
) -> dict[str, list[Problem]]:
    """The batch's problems by file name. Should checking the batch fail, each file is checked
    alone, so that a file that breaks the checker fails only itself."""
    try:
        return validate_files(files, reference, now.date(), history, gx_sample_rows)
    except Exception as error:
        _log.error("Checking the batch failed; checking file by file", exc_info=error)
    problems = {}
    for parsed in files:
        try:
            problems.update(
                validate_files([parsed], reference, now.date(), history, gx_sample_rows)
            )
        except Exception as error:
            problems[parsed.name] = [
                *parsed.problems,
                _internal_error(parsed.name, "checking the file", error),
            ]
    return problems


def _unchanged(item: Received) -> bool:
    """Whether the landing file is still the one read: same inode, size and modification time.
    A body saving a corrected file under the same name, or an upload still under way, changes
    them, and the new bytes must wait for the next run rather than be removed unseen."""
    if item.landing_identity is None or item.landing_path is None:
        return True
    try:
        status = item.landing_path.lstat()
    except FileNotFoundError:
        return False
    return (status.st_ino, status.st_size, status.st_mtime_ns) == item.landing_identity


def _remove_from_landing(item: Received) -> None:
    """Remove a recorded file (or link: never what it points to) from landing/, if it is still
    the one read. Should that fail, the next run recognises it as left over and tries again."""
    if item.landing_path is None or not _unchanged(item):
        return
    try:
        item.landing_path.unlink(missing_ok=True)
    except OSError as error:
        _log.error("Could not remove %s from landing/: %s", item.landing_path, error)


@dataclass
class _Run:
    """What one collection knows while it works through landing/ batch by batch: what the
    warehouse held when it began and what the run has taken in since."""

    paths: DataPaths
    reference: Reference
    now: datetime
    history: pa.Table
    result: CollectionResult
    registered: set[str]
    loaded: set[tuple[str | None, str]]
    left_over: set[tuple[str, str, int]]
    next_sequence: int
    fast_path: bool = True
    seen: set[tuple[str | None, str]] = field(default_factory=set)
    # Great Expectations checks the SQL of the cell rules over this many rows of the run (the
    # first batches'), not of every batch: the query is the same for every batch, and a GX run
    # costs about 0.5 s, so 50 batches of a first UK collect would otherwise spend 25 s on it.
    gx_rows_left: int = field(default_factory=lambda: GX_SAMPLE_ROWS)
    # Bodies with a file that could not be read or archived this run: their later files wait
    # with it, so a version never loads after the one that replaced it (the latest load wins).
    waiting: set[str] = field(default_factory=set)

    def wait(self, name: str, sender: str | None, reason: str) -> None:
        self.result.deferred[name] = reason
        if sender is not None:
            self.waiting.add(sender)

    def behind(self, name: str, sender: str | None) -> bool:
        """Whether the file must wait behind an earlier one of its body that could not be read."""
        if sender is None or sender not in self.waiting:
            return False
        self.result.deferred[name] = WAITS_BEHIND
        return True

    def is_new(self, sender: str | None, digest: str, name: str) -> bool:
        # Bytes already loaded from this sender change nothing; the same bytes twice from one
        # sender in one run are one submission. Checked before parsing: a file not known by
        # its name, size and time costs a hash, no more. The same bytes from another sender
        # are checked like any file (and rejected: their rows are about the body that sent
        # them first).
        if (sender, digest) in self.loaded or (sender, digest) in self.seen:
            self.result.skipped.append(name)
            return False
        self.seen.add((sender, digest))
        return True

    def receive(self, entry: LandingEntry) -> Received | None:
        """Read one landing entry into the batch, or None when it is done with (left over from
        a stopped run, already loaded) or must wait for the next run."""
        sender = landing_sender(Path(entry.name), self.registered)
        if self.behind(entry.name, sender):
            return None
        refused, data = entry.refused, b""
        if not refused:
            try:
                data = read_landing_file(self.paths.landing, entry.on_disk)
            except NotRegularFile as error:
                refused = str(error)
            except FileTooLarge as error:
                return _too_large(entry, sender, error.args[0])
            except OSError as error:
                # Nothing of it could be kept, so it stays in landing/ for the next run.
                _log.error("Could not read %s from landing/: %s", entry.name, error)
                self.wait(entry.name, sender, f"could not be read ({type(error).__name__})")
                return None
        digest = NOTHING_READ if refused else content_hash(data)
        if (entry.name, digest, entry.mtime_ns) in self.left_over:
            self.result.left_over.append(entry.name)  # archived, quarantined and recorded
            _remove_from_landing(
                Received(ParsedFile(entry.name, digest), "landing", b"", entry.path,
                         landing_identity=entry.identity)
            )  # fmt: skip
            return None
        if refused:
            return _refused(entry, sender, refused)
        if not self.is_new(sender, digest, entry.name):
            return None
        try:
            plain = plain_rows_text(entry.name, data) if self.fast_path and sender else None
            if plain is None:
                item = receive_landing_file(
                    entry.path, self.paths.landing, sender, data, entry.name
                )
            else:  # parsed with its batch
                parsed = ParsedFile(entry.name, digest, sender)
                item = Received(parsed, "landing", data, entry.path, plain=plain)
        except Exception as error:
            problem = _internal_error(entry.name, "reading the file", error)
            parsed = ParsedFile(entry.name, digest, sender, problems=[problem])
            item = Received(parsed, "landing", data, entry.path)
        item.landing_mtime_ns, item.landing_identity = entry.mtime_ns, entry.identity
        return item


def _parse_plain(batch: list[Received]) -> None:
    """Parse the batch's plain files in one DuckDB query; a file the fast path sends back is
    read by the Python reader, as any other file."""
    waiting = {i: item.plain for i, item in enumerate(batch) if item.plain is not None}
    try:
        tables = parse_plain(waiting)
    except Exception as error:
        _log.error("The fast path failed; reading its files one by one", exc_info=error)
        tables = {}
    for i in waiting:
        item = batch[i]
        item.plain = None
        if i in tables:
            item.parsed.table = tables[i]
            continue
        try:
            item.parsed = parse_submission(item.parsed.name, item.data, item.parsed.sender)
        except Exception as error:
            problem = _internal_error(item.parsed.name, "reading the file", error)
            item.parsed.problems.append(problem)


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# What a file read into a batch holds in memory besides its bytes: about 2 KB a row read by the
# Python reader (its cells as a dict of strings), so a batch of small XLSX files that unpack to
# thousands of rows each closes long before BATCH_BYTES of files on disk.
ROW_BYTES = 2_048


def _weight(item: Received) -> int:
    return len(item.data) + ROW_BYTES * len(item.parsed.rows)


def collect_submissions(
    paths: DataPaths,
    reference: Reference,
    now: datetime,
    pulled: Iterable[Received] = (),
    *,
    batch_files: int = BATCH_FILES,
    progress: Callable[[int, int], None] | None = None,
    fast_path: bool = True,
) -> CollectionResult:
    """Validate every new landing file and pulled payload and load the accepted, `batch_files`
    files at a time, each batch in one transaction, the next batch read while one loads.
    `progress` is told (files read, files to read) file by file. Plain files are parsed by
    DuckDB (collect/fast.py) unless `fast_path` is False. Whatever goes wrong with one file
    fails that file only."""
    paths.ensure()
    result = CollectionResult()
    with duckdb.connect(str(paths.warehouse)) as con:
        ensure_raw_schema(con)
        loaded = set(
            con.execute(
                "select sender, content_hash from raw.submission_files where status = 'accepted'"
            ).fetchall()
        )
        # A landing file is known by its name, bytes and modification time: the same three
        # again mean the very file a run rejected and recorded, then stopped before removing.
        left_over = set(
            con.execute(
                "select file_name, content_hash, landing_mtime_ns from raw.submission_files "
                "where status = 'rejected' and source = 'landing' and landing_mtime_ns is not null"
            ).fetchall()
        )
        # An accepted file stays in landing/: the same name, size and modification time again
        # are the file already loaded, so it is not read or hashed again. A file saved again in
        # place has a new modification time and is read like a new one.
        accepted_in_landing = set(
            con.execute(
                "select file_name, landing_size, landing_mtime_ns from raw.submission_files "
                "where status = 'accepted' and source = 'landing' and landing_size is not null"
            ).fetchall()
        )
        next_sequence = con.execute(
            "select coalesce(max(load_sequence), 0) + 1 from raw.submission_files"
        ).fetchall()[0][0]  # fetched to the end, so the connection is free for con.sql below
        run = _Run(
            paths,
            reference,
            now,
            HISTORY_SCHEMA.empty_table(),  # taken below, when there is something to check
            result,
            {b["body_code"] for b in reference.bodies},
            loaded,
            left_over,
            next_sequence,
            fast_path,
        )

        scan = scan_landing(paths.landing)
        result.ignored = scan.ignored
        for folder, reason in scan.unlistable.items():
            result.deferred[folder + "/"] = f"could not be listed ({reason})"
        to_read = []
        for entry in scan.entries:
            size = entry.identity[1] if entry.identity else None
            # A hard link (a backup made with `cp -al`) to a file already accepted is still that
            # file: skipped unread, never refused and reported to the body as a new submission.
            known = entry.refused in ("", HARD_LINK)
            if known and (entry.name, size, entry.mtime_ns) in accepted_in_landing:
                result.skipped.append(entry.name)
            else:
                to_read.append(entry)
        del accepted_in_landing
        pulled = list(pulled)
        total = len(to_read) + len(pulled)
        if total:
            # Taken once, before the first batch: every batch is checked against the same
            # history, so how landing/ is cut into batches never changes a result. Not taken
            # when nothing is new: at the UK scale it reads every row (10 s, 2 GB).
            run.history = con.sql(HISTORY_SQL).to_arrow_table().cast(HISTORY_SCHEMA)
        batch_files = max(1, batch_files)
        read_ahead = _one_batch_ahead(
            lambda tell: _landing_batches(run, to_read, batch_files, tell),
            lambda position: progress(position, total) if progress is not None else None,
        )
        # closed on the way out, whatever happens: a load that fails stops the reading thread
        with contextlib.closing(read_ahead):
            for batch in read_ahead:
                _load_batch(con, run, batch)
        done = len(to_read)
        for items in _chunks(pulled, batch_files):
            batch = [
                item
                for item in items
                # an entry refused unread has no bytes to be a duplicate of (a replay has
                # several)
                if not item.opened
                or run.is_new(item.parsed.sender, item.parsed.content_hash, item.parsed.name)
            ]
            _load_batch(con, run, batch)
            done += len(items)
            if progress is not None:
                progress(done, total)
        if progress is not None and total == 0:
            progress(0, 0)
    return result


def _landing_batches(
    run: _Run, entries: list[LandingEntry], batch_files: int, tell: Callable[[int], None]
) -> Iterator[list[Received]]:
    """The entries read into batches, in load order, each batch parsed; `tell` is told how many
    entries have been read after each."""
    batch: list[Received] = []
    held = 0
    for position, entry in enumerate(entries, start=1):
        item = run.receive(entry)
        if item is not None:
            batch.append(item)
            held += _weight(item)
        if len(batch) >= batch_files or held >= BATCH_BYTES or position == len(entries):
            _parse_plain(batch)
            yield batch
            batch, held = [], 0
        tell(position)


def _one_batch_ahead(
    batches: Callable[[Callable[[int], None]], Iterable[list[Received]]],
    tell: Callable[[int], None],
) -> Iterator[list[Received]]:
    """The batches of `batches`, read and parsed in a thread one batch ahead of the caller: the
    next batch's files are read, hashed and parsed (DuckDB, its own connection) while this one
    is archived, checked and loaded on the other core. Still in load order and one batch at a
    time for everything the caller does: what one batch's loading decides (a body whose file
    could not be archived) is checked again for every file of the next before it is archived.
    At most two batches are held. `tell` is called here, in order, as the thread reads."""
    events: queue.SimpleQueue = queue.SimpleQueue()
    room = threading.Semaphore(1)  # a batch may wait while the caller loads the one before
    stop = threading.Event()

    def work() -> None:
        try:
            for batch in batches(lambda position: events.put(("read", position))):
                while not room.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                events.put(("batch", batch))
            events.put(("done", None))
        except BaseException as error:  # raised again in the caller's thread
            events.put(("error", error))

    reader = threading.Thread(target=work, name="collect-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            kind, value = events.get()
            if kind == "read":
                tell(value)
            elif kind == "batch":
                yield value
                room.release()
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        reader.join()


def _archived(run: _Run, batch: list[Received]) -> list[Received]:
    """The items whose bytes are now in the archive; the others wait in landing/."""
    archived = []
    for item in batch:
        sender = item.parsed.sender if item.source == "landing" else None
        if run.behind(item.parsed.name, sender):
            continue
        try:
            if item.opened:
                archive_bytes(run.paths, item.data, item.parsed.content_hash)
        except Exception as error:
            # Its bytes are kept nowhere else yet: it stays in landing/ for the next run.
            _log.error("Could not archive %s", item.parsed.name, exc_info=error)
            reason = f"could not be archived ({type(error).__name__})"
            run.wait(item.parsed.name, sender, reason)
            continue
        archived.append(item)
    return archived


def _arrow_schema(con: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    return con.table(table).limit(0).to_arrow_table().schema


def _load_batch(con: duckdb.DuckDBPyConnection, run: _Run, batch: list[Received]) -> None:
    """Archive, check, report and load one batch; its accepted files load in one transaction."""
    batch = _archived(run, batch)
    if not batch:
        return
    paths, now, result = run.paths, run.now, run.result
    received_at = now.isoformat(sep=" ", timespec="seconds")
    files = [item.parsed for item in batch]
    problems = _validate(files, run.reference, now, run.history, run.gx_rows_left)
    run.gx_rows_left -= min(run.gx_rows_left, sum(f.row_count for f in files))
    for item in batch:
        name = item.parsed.name
        if problems[name]:
            item.parsed.with_row_dicts()  # its reports name the months of its rows
        try:
            _send_feedback(paths, item, problems[name], received_at)
        except Exception as error:
            # Loaded without its report, a file would leave the body guessing: reject it,
            # with a report saying why, if that can be written at all.
            problems[name] = [
                *problems[name],
                _internal_error(name, "writing its report", error),
            ]
            try:
                _quarantine(paths, item, problems[name], received_at)
            except Exception as again:
                _log.error("No report could be written for %s", name, exc_info=again)

    records, problem_rows = [], []
    for file_id, item in enumerate(batch):
        sequence = run.next_sequence + file_id
        found = problems[item.parsed.name]
        errors, warnings = problem_counts(found)  # the listed and the only counted
        records.append(
            FileRecord(
                load_sequence=sequence,
                file_name=item.parsed.name,
                content_hash=item.parsed.content_hash,
                source=item.source,
                sender=item.parsed.sender,
                status="rejected" if errors else "accepted",
                received_at=now,
                row_count=item.parsed.row_count,
                error_count=errors,
                warning_count=warnings,
                periods=item.parsed.periods(),
                landing_mtime_ns=item.landing_mtime_ns,
                # what a replay from the archive gives again: the bytes' length
                landing_size=len(item.data) if item.source == "landing" and item.opened else None,
                return_kind=return_kind(item.parsed),
            )
        )
        problem_rows += [
            (sequence, p.row, p.column, p.value, p.rule, p.severity, p.detail) for p in found
        ]
    accepted = [i for i, r in enumerate(records) if r.status == "accepted"]
    run.next_sequence += len(batch)

    # Typed as the tables are: the DDL above is the one list of their columns.
    files_schema, problems_schema = (
        _arrow_schema(con, table) for table in ("raw.submission_files", "raw.submission_problems")
    )
    new_files = pa.table(
        {name: [getattr(r, name) for r in records] for name in files_schema.names},
        schema=files_schema,
    )
    new_problems = pa.table(
        dict(zip(problems_schema.names, map(list, zip(*problem_rows, strict=True)), strict=True))
        if problem_rows
        else {name: [] for name in problems_schema.names},
        schema=problems_schema,
    )
    # Only the accepted files' rows; a file's id stays its position in the batch.
    keep = {i for i in accepted if not is_assessment(files[i])}
    only_accepted = [
        p if i in keep else ParsedFile(p.name, p.content_hash) for i, p in enumerate(files)
    ]
    incoming = rows_table(only_accepted)
    new_assessments = assessment_rows(
        [(records[i].load_sequence, files[i]) for i in accepted if is_assessment(files[i])], now
    )
    accepted_files = pa.table(
        {
            "file_id": pa.array(accepted, pa.int32()),
            "load_sequence": pa.array([records[i].load_sequence for i in accepted], pa.int32()),
            "file_name": pa.array([files[i].name for i in accepted], pa.string()),
            "content_hash": pa.array([files[i].content_hash for i in accepted], pa.string()),
        }
    )
    # One transaction: either every accepted file of the batch is loaded and logged, or none.
    con.begin()
    try:
        con.register("new_files", new_files)
        con.register("new_problems", new_problems)
        con.register("incoming", incoming)
        con.register("accepted_files", accepted_files)
        con.register("new_assessments", new_assessments)
        con.execute(INSERT_FILES_SQL)
        con.execute(INSERT_PROBLEMS_SQL)
        con.execute(INSERT_ACCEPTED_SQL, {"loaded_at": now})
        con.execute(INSERT_ASSESSMENTS_SQL)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        for view in ("new_files", "new_problems", "incoming", "accepted_files", "new_assessments"):
            con.unregister(view)

    for item in batch:
        found = problems[item.parsed.name]
        if rejected(found):
            result.rejected[item.parsed.name] = found
            if item.landing_path is not None:
                _remove_from_landing(item)  # safe: archived, quarantined, recorded
        else:
            result.accepted.append(item.parsed.name)
            if is_assessment(item.parsed):
                result.assessment_rows_loaded += item.parsed.row_count
            else:
                result.rows_loaded += item.parsed.row_count
            if found:
                result.warned[item.parsed.name] = found


def record_collection_attempts(paths: DataPaths, attempts: Iterable[tuple]) -> None:
    """One row per endpoint pulled: (attempted_at, body_code, url, status, attempts, http_status,
    message). Tokens are never part of it."""
    rows = list(attempts)
    if not rows:
        return
    with duckdb.connect(str(paths.warehouse)) as con:
        ensure_raw_schema(con)
        con.executemany("insert into raw.collection_attempts values (?, ?, ?, ?, ?, ?, ?)", rows)
