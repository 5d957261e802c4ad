"""Collect the landing zone: new files are validated as one batch; accepted files load into the
warehouse in one transaction; rejected files move to quarantine/ with a report. Nothing is lost:
a file leaves landing/ only after it is safely in quarantine/ and recorded in the warehouse."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_project.collect.contract import COLUMN_NAMES, COUNT_COLUMNS, FLAG_COLUMNS
from dagster_project.collect.validate import (
    ParsedFile,
    Problem,
    content_hash,
    parse_submission,
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
    status          varchar not null check (status in ('accepted', 'rejected')),
    received_at     timestamp not null,
    row_count       integer not null,
    problem_count   integer not null
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
"""


def _typed(column: str) -> str:
    if column in COUNT_COLUMNS:
        return f"cast(nullif({column}, '') as bigint)"
    if column in FLAG_COLUMNS:
        return f"lower({column}) = 'yes'"
    return f"nullif({column}, '')" if column == "notes" else column


INSERT_ACCEPTED_SQL = f"""
insert into raw.submissions
select f.load_sequence, f.file_name, f.content_hash, $loaded_at, i.row_number,
       {", ".join(_typed(c) for c in COLUMN_NAMES)}
from incoming i join accepted_files f using (file_id)
"""


@dataclass
class CollectionResult:
    accepted: list[str] = field(default_factory=list)
    rejected: dict[str, list[Problem]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # already loaded, same content
    rows_loaded: int = 0


def landing_files(landing: Path) -> list[Path]:
    """Every submission file waiting in landing/, in a stable order; hidden files are ignored."""
    return sorted(
        p
        for p in landing.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "~$")) for part in p.relative_to(landing).parts)
    )


def read_landing_file(path: Path, landing: Path) -> ParsedFile:
    name = path.relative_to(landing).as_posix()
    data = path.read_bytes()
    if path.suffix.lower() != ".csv":
        return ParsedFile(
            name,
            content_hash(data),
            problems=[
                Problem(
                    name,
                    0,
                    "",
                    path.suffix or "(no extension)",
                    "file_type",
                    "a .csv file in the submission template's format",
                )
            ],
        )
    return parse_submission(name, data)


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_SCHEMA_SQL)


def _quarantine(
    paths: DataPaths, source: Path, parsed: ParsedFile, problems: list[Problem]
) -> Path:
    """Copy a rejected file into quarantine/ beside a JSON and a text report; never overwrite
    a different file that happens to have the same name."""
    flat = parsed.name.replace("/", "__")
    target = paths.quarantine / flat
    if target.exists() and target.read_bytes() != source.read_bytes():
        target = target.with_name(f"{target.stem}.{parsed.content_hash[:12]}{target.suffix}")
    target.write_bytes(source.read_bytes())
    report = {
        "file": parsed.name,
        "content_hash": parsed.content_hash,
        "status": "rejected",
        "problem_count": len(problems),
        "problems": [
            {
                "row": p.row,
                "column": p.column,
                "value": p.value,
                "rule": p.rule,
                "expected": p.expected,
            }
            for p in problems
        ],
    }
    target.with_name(target.name + ".report.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    lines = [
        f"Submission {parsed.name} was not loaded: {len(problems)} problem(s) found.",
        "Nothing from this file was loaded. Fix every problem below and send the whole file again.",
        "",
        *(p.describe() for p in problems),
    ]
    target.with_name(target.name + ".report.txt").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    return target


def collect_landing_zone(paths: DataPaths, reference: Reference, now: datetime) -> CollectionResult:
    """Validate every new file in landing/ as one batch and load the accepted ones."""
    paths.ensure()
    result = CollectionResult()
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

        sources: list[Path] = []
        batch: list[ParsedFile] = []
        for path in landing_files(paths.landing):
            parsed = read_landing_file(path, paths.landing)
            if parsed.content_hash in loaded:
                result.skipped.append(parsed.name)
                continue
            loaded.add(parsed.content_hash)  # the same bytes twice in one batch load once
            sources.append(path)
            batch.append(parsed)
        if not batch:
            return result

        problems = validate_files(batch, reference, now.date())
        file_log = []
        for file_id, parsed in enumerate(batch):
            status = "rejected" if problems[parsed.name] else "accepted"
            file_log.append(
                (
                    file_id,
                    next_sequence + file_id,
                    parsed.name,
                    parsed.content_hash,
                    status,
                    now,
                    len(parsed.rows),
                    len(problems[parsed.name]),
                )
            )
        for file_id, parsed in enumerate(batch):
            if problems[parsed.name]:
                _quarantine(paths, sources[file_id], parsed, problems[parsed.name])

        # One transaction: either every accepted file of the batch is loaded and logged, or none.
        con.begin()
        try:
            con.executemany(
                "insert into raw.submission_files values (?, ?, ?, ?, ?, ?, ?)",
                [entry[1:] for entry in file_log],
            )
            con.register("incoming", rows_table(batch))
            accepted = [e for e in file_log if e[4] == "accepted"]
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

    for file_id, parsed in enumerate(batch):
        if problems[parsed.name]:
            result.rejected[parsed.name] = problems[parsed.name]
            sources[file_id].unlink()
        else:
            result.accepted.append(parsed.name)
            result.rows_loaded += len(parsed.rows)
    return result
