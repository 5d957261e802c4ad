"""Load a batch of submissions into the warehouse: every new file in landing/ and every payload
pulled from the bodies' endpoints is validated as one batch; accepted files load in one
transaction; rejected files move to quarantine/ with a report. Nothing is lost: every received
file's bytes are archived under their SHA-256 before anything else happens, and a file leaves
landing/ only after it is recorded in the warehouse. The same bytes twice change nothing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_project.collect.contract import COLUMN_NAMES, COUNT_COLUMNS, FLAG_COLUMNS
from dagster_project.collect.feedback import write_reports
from dagster_project.collect.validate import (
    HISTORY_SCHEMA,
    ParsedFile,
    Problem,
    content_hash,
    parse_submission,
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
    periods         varchar[] not null  -- the months the file's rows are about, as written
);
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


@dataclass
class Received:
    """One submission as received: where it came from and its bytes, parsed."""

    parsed: ParsedFile
    source: str  # "landing" or "api"
    data: bytes
    landing_path: Path | None = None


@dataclass
class CollectionResult:
    accepted: list[str] = field(default_factory=list)
    rejected: dict[str, list[Problem]] = field(default_factory=dict)
    warned: dict[str, list[Problem]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # already loaded, same content
    rows_loaded: int = 0

    @property
    def processed(self) -> int:
        return len(self.accepted) + len(self.rejected)


def landing_files(landing: Path) -> list[Path]:
    """Every submission file waiting in landing/, in a stable order; hidden files are ignored."""
    return sorted(
        p
        for p in landing.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "~$")) for part in p.relative_to(landing).parts)
    )


def landing_sender(relative: Path, registered: set[str]) -> str | None:
    """The body a landing file comes from: the registered body whose folder it sits in."""
    folder = relative.parts[0] if len(relative.parts) > 1 else None
    return folder if folder in registered else None


def receive_landing_file(path: Path, landing: Path, sender: str | None, data: bytes) -> Received:
    """Parse a landing file; a file outside any registered body's folder is rejected."""
    relative = path.relative_to(landing)
    name = relative.as_posix()
    if sender is None:
        folder = relative.parts[0] if len(relative.parts) > 1 else "(landing/ itself)"
        parsed = ParsedFile(
            name, content_hash(data), problems=[Problem(name, 0, "", folder, "unknown_sender")]
        )
    else:
        parsed = parse_submission(name, data, sender=sender)
    return Received(parsed, "landing", data, path)


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_SCHEMA_SQL)


def archive(paths: DataPaths, data: bytes, digest: str) -> Path:
    """Keep the original bytes, content-addressed, before anything else is done with them."""
    target = paths.archive / digest[:2] / digest
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(target)
    return target


def _quarantine(paths: DataPaths, item: Received, problems: list[Problem], received: str) -> None:
    """Copy a rejected file into quarantine/ beside its reports; never overwrite a different
    file that happens to have the same name."""
    flat = item.parsed.name.replace("/", "__")
    target = paths.quarantine / flat
    if target.exists() and content_hash(target.read_bytes()) != item.parsed.content_hash:
        target = target.with_name(f"{target.stem}.{item.parsed.content_hash[:12]}{target.suffix}")
    target.write_bytes(item.data)
    write_reports(target, item.parsed, problems, received)


def collect_submissions(
    paths: DataPaths, reference: Reference, now: datetime, pulled: Iterable[Received] = ()
) -> CollectionResult:
    """Validate every new landing file and pulled payload as one batch and load the accepted."""
    paths.ensure()
    result = CollectionResult()
    registered = {b["body_code"] for b in reference.bodies}
    received_at = now.isoformat(sep=" ", timespec="seconds")
    with duckdb.connect(str(paths.warehouse)) as con:
        ensure_raw_schema(con)
        loaded = {
            h
            for (h,) in con.execute(
                "select content_hash from raw.submission_files where status = 'accepted'"
            ).fetchall()
        }
        next_sequence = con.execute(
            "select coalesce(max(load_sequence), 0) + 1 from raw.submission_files"
        ).fetchone()[0]
        history = con.execute(HISTORY_SQL).to_arrow_table().cast(HISTORY_SCHEMA)

        batch: list[Received] = []
        seen: set[tuple[str | None, str]] = set()

        def is_new(sender: str | None, digest: str, name: str) -> bool:
            # Bytes already loaded change nothing; the same bytes twice from one sender in one
            # batch are one submission. Checked before parsing: old files cost a hash, no more.
            if digest in loaded or (sender, digest) in seen:
                result.skipped.append(name)
                return False
            seen.add((sender, digest))
            return True

        for path in landing_files(paths.landing):
            data = path.read_bytes()
            relative = path.relative_to(paths.landing)
            sender = landing_sender(relative, registered)
            if is_new(sender, content_hash(data), relative.as_posix()):
                batch.append(receive_landing_file(path, paths.landing, sender, data))
        batch += [
            item
            for item in pulled
            if is_new(item.parsed.sender, item.parsed.content_hash, item.parsed.name)
        ]
        for item in batch:
            archive(paths, item.data, item.parsed.content_hash)
        if not batch:
            return result

        files = [item.parsed for item in batch]
        problems = validate_files(files, reference, now.date(), history)
        log, problem_rows = [], []
        for file_id, parsed in enumerate(files):
            sequence = next_sequence + file_id
            found = problems[parsed.name]
            errors = sum(p.severity == "error" for p in found)
            log.append(
                (
                    file_id,
                    sequence,
                    parsed.name,
                    parsed.content_hash,
                    batch[file_id].source,
                    parsed.sender,
                    "rejected" if errors else "accepted",
                    now,
                    len(parsed.rows),
                    errors,
                    len(found) - errors,
                    sorted({r["period"] for r in parsed.rows if PERIOD.fullmatch(r["period"])}),
                )
            )
            problem_rows += [
                (sequence, p.row, p.column, p.value, p.rule, p.severity, p.detail) for p in found
            ]
        for item in batch:
            found = problems[item.parsed.name]
            if rejected(found):
                _quarantine(paths, item, found, received_at)
            elif found:
                target = paths.feedback / item.parsed.name
                target.parent.mkdir(parents=True, exist_ok=True)
                write_reports(target, item.parsed, found, received_at)

        # One transaction: either every accepted file of the batch is loaded and logged, or none.
        con.begin()
        try:
            con.executemany(
                "insert into raw.submission_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [entry[1:] for entry in log],
            )
            if problem_rows:
                con.executemany(
                    "insert into raw.submission_problems values (?, ?, ?, ?, ?, ?, ?)", problem_rows
                )
            accepted = [e for e in log if e[6] == "accepted"]
            con.register("incoming", rows_table(files))
            con.register(
                "accepted_files",
                pa.table(
                    {
                        "file_id": pa.array([e[0] for e in accepted], pa.int32()),
                        "load_sequence": pa.array([e[1] for e in accepted], pa.int32()),
                        "file_name": pa.array([e[2] for e in accepted], pa.string()),
                        "content_hash": pa.array([e[3] for e in accepted], pa.string()),
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
                item.landing_path.unlink()  # safe: archived, quarantined and recorded
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
