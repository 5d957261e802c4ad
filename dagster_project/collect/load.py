"""Load a batch of submissions into the warehouse: every new file in landing/ and every payload
pulled from the bodies' endpoints is validated as one batch; accepted files load in one
transaction; rejected files move to quarantine/ with a report. Nothing is lost: every received
file's bytes are archived under their SHA-256 before anything else happens, and a file leaves
landing/ only after it is recorded in the warehouse. The same bytes twice change nothing.

Only regular files inside landing/ are read: links, pipes and devices are refused with a report
and never opened; hidden names are listed as ignored. Whatever goes wrong with one file (even an
unexpected exception) rejects that file with a report and never stops the batch."""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Iterable
from dataclasses import astuple, dataclass, field, fields
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_project.collect.archive import archive_bytes
from dagster_project.collect.contract import COLUMN_NAMES, COUNT_COLUMNS, FLAG_COLUMNS
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
    landing_mtime_ns bigint
);
-- Warehouses created before the column existed
alter table raw.submission_files add column if not exists landing_mtime_ns bigint;
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


PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def _typed(column: str) -> str:
    if column in COUNT_COLUMNS:
        return f"cast(nullif({column}, '') as bigint)"
    if column in FLAG_COLUMNS:
        return f"{column} = 'yes'"
    return f"nullif({column}, '')" if column == "notes" else column


INSERT_ACCEPTED_SQL = f"""
insert into raw.submissions
select f.load_sequence, f.file_name, f.content_hash, $loaded_at, i.row_number,
       {", ".join(_typed(c) for c in COLUMN_NAMES)}
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
    rows_loaded: int = 0

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


INSERT_FILE_SQL = "insert into raw.submission_files ({}) values ({})".format(
    ", ".join(f.name for f in fields(FileRecord)), ", ".join("?" for _ in fields(FileRecord))
)


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
        return "a hard link to a file with other names" if links > 1 else ""
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
    files: list[ParsedFile], reference: Reference, now: datetime, history: pa.Table
) -> dict[str, list[Problem]]:
    """The batch's problems by file name. Should checking the batch fail, each file is checked
    alone, so that a file that breaks the checker fails only itself."""
    try:
        return validate_files(files, reference, now.date(), history)
    except Exception as error:
        _log.error("Checking the batch failed; checking file by file", exc_info=error)
    problems = {}
    for parsed in files:
        try:
            problems.update(validate_files([parsed], reference, now.date(), history))
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


def collect_submissions(
    paths: DataPaths, reference: Reference, now: datetime, pulled: Iterable[Received] = ()
) -> CollectionResult:
    """Validate every new landing file and pulled payload as one batch and load the accepted.
    Whatever goes wrong with one file fails that file only."""
    paths.ensure()
    result = CollectionResult()
    registered = {b["body_code"] for b in reference.bodies}
    received_at = now.isoformat(sep=" ", timespec="seconds")
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
        next_sequence = con.execute(
            "select coalesce(max(load_sequence), 0) + 1 from raw.submission_files"
        ).fetchall()[0][0]  # fetched to the end, so the connection is free for con.sql below
        history = con.sql(HISTORY_SQL).to_arrow_table().cast(HISTORY_SCHEMA)

        batch: list[Received] = []
        seen: set[tuple[str | None, str]] = set()

        def is_new(sender: str | None, digest: str, name: str) -> bool:
            # Bytes already loaded from this sender change nothing; the same bytes twice from
            # one sender in one batch are one submission. Checked before parsing: old files
            # cost a hash, no more. The same bytes from another sender are checked like any
            # file (and rejected: their rows are about the body that sent them first).
            if (sender, digest) in loaded or (sender, digest) in seen:
                result.skipped.append(name)
                return False
            seen.add((sender, digest))
            return True

        scan = scan_landing(paths.landing)
        result.ignored = scan.ignored
        for folder, reason in scan.unlistable.items():
            result.deferred[folder + "/"] = f"could not be listed ({reason})"
        for entry in scan.entries:
            sender = landing_sender(Path(entry.name), registered)
            refused, data = entry.refused, b""
            if not refused:
                try:
                    data = read_landing_file(paths.landing, entry.on_disk)
                except NotRegularFile as error:
                    refused = str(error)
                except FileTooLarge as error:
                    batch.append(_too_large(entry, sender, error.args[0]))
                    continue
                except OSError as error:
                    # Nothing of it could be kept, so it stays in landing/ for the next run.
                    _log.error("Could not read %s from landing/: %s", entry.name, error)
                    result.deferred[entry.name] = f"could not be read ({type(error).__name__})"
                    continue
            digest = NOTHING_READ if refused else content_hash(data)
            if (entry.name, digest, entry.mtime_ns) in left_over:
                result.left_over.append(entry.name)  # archived, quarantined and recorded
                _remove_from_landing(
                    Received(ParsedFile(entry.name, digest), "landing", b"", entry.path,
                             landing_identity=entry.identity)
                )  # fmt: skip
            elif refused:
                batch.append(_refused(entry, sender, refused))
            elif is_new(sender, digest, entry.name):
                try:
                    item = receive_landing_file(
                        entry.path, paths.landing, sender, data, entry.name
                    )
                except Exception as error:
                    problem = _internal_error(entry.name, "reading the file", error)
                    parsed = ParsedFile(entry.name, digest, sender, problems=[problem])
                    item = Received(parsed, "landing", data, entry.path)
                item.landing_mtime_ns, item.landing_identity = entry.mtime_ns, entry.identity
                batch.append(item)
        batch += [
            item
            for item in pulled
            # an entry refused unread has no bytes to be a duplicate of (a replay has several)
            if not item.opened
            or is_new(item.parsed.sender, item.parsed.content_hash, item.parsed.name)
        ]
        archived: list[Received] = []
        for item in batch:
            try:
                if item.opened:
                    archive_bytes(paths, item.data, item.parsed.content_hash)
            except Exception as error:
                # Its bytes are kept nowhere else yet: it stays in landing/ for the next run.
                _log.error("Could not archive %s", item.parsed.name, exc_info=error)
                result.deferred[item.parsed.name] = (
                    f"could not be archived ({type(error).__name__})"
                )
                continue
            archived.append(item)
        batch = archived
        if not batch:
            return result

        files = [item.parsed for item in batch]
        problems = _validate(files, reference, now, history)
        for item in batch:
            name = item.parsed.name
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
            sequence = next_sequence + file_id
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
                    row_count=len(item.parsed.rows),
                    error_count=errors,
                    warning_count=warnings,
                    periods=sorted(
                        {r["period"] for r in item.parsed.rows if PERIOD.fullmatch(r["period"])}
                    ),
                    landing_mtime_ns=item.landing_mtime_ns,
                )
            )
            problem_rows += [
                (sequence, p.row, p.column, p.value, p.rule, p.severity, p.detail) for p in found
            ]
        accepted = [i for i, r in enumerate(records) if r.status == "accepted"]

        # One transaction: either every accepted file of the batch is loaded and logged, or none.
        con.begin()
        try:
            con.executemany(INSERT_FILE_SQL, [astuple(r) for r in records])
            if problem_rows:
                con.executemany(
                    "insert into raw.submission_problems values (?, ?, ?, ?, ?, ?, ?)", problem_rows
                )
            # Only the accepted files' rows; a file's id stays its position in the batch.
            keep = set(accepted)
            only_accepted = [
                p if i in keep else ParsedFile(p.name, p.content_hash) for i, p in enumerate(files)
            ]
            con.register("incoming", rows_table(only_accepted))
            con.register(
                "accepted_files",
                pa.table(
                    {
                        "file_id": pa.array(accepted, pa.int32()),
                        "load_sequence": pa.array(
                            [records[i].load_sequence for i in accepted], pa.int32()
                        ),
                        "file_name": pa.array([files[i].name for i in accepted], pa.string()),
                        "content_hash": pa.array(
                            [files[i].content_hash for i in accepted], pa.string()
                        ),
                    }
                ),
            )
            con.execute(INSERT_ACCEPTED_SQL, {"loaded_at": now})
            con.commit()
        except BaseException:
            con.rollback()
            raise

    for item in batch:
        found = problems[item.parsed.name]
        if rejected(found):
            result.rejected[item.parsed.name] = found
            if item.landing_path is not None:
                _remove_from_landing(item)  # safe: archived, quarantined, recorded
        else:
            result.accepted.append(item.parsed.name)
            result.rows_loaded += len(item.parsed.rows)
            if found:
                result.warned[item.parsed.name] = found
    return result


def record_collection_attempts(paths: DataPaths, attempts: Iterable[tuple]) -> None:
    """One row per endpoint pulled: (attempted_at, body_code, url, status, attempts, http_status,
    message). Tokens are never part of it."""
    rows = list(attempts)
    if not rows:
        return
    with duckdb.connect(str(paths.warehouse)) as con:
        ensure_raw_schema(con)
        con.executemany("insert into raw.collection_attempts values (?, ?, ?, ?, ?, ?, ?)", rows)
