"""The archive: every file received, byte for byte under its SHA-256, and beside it the receipts
log, one line per file the warehouse recorded (its row of raw.submission_files, in load order).
Together they are enough to rebuild `raw` when the warehouse is damaged or lost: the bytes say
what was sent, the receipts say when, by whom, in which batch and what was decided.

The log is append-only JSON Lines, so it survives the warehouse and a person can read it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

import duckdb

from dagster_project.settings import DataPaths

RECEIPTS = "receipts.jsonl"

Receipt = dict[str, object]  # one row of raw.submission_files, JSON-ready, keyed by column


def archived_path(paths: DataPaths, digest: str) -> Path:
    """Where the bytes with this SHA-256 are kept."""
    return paths.archive / digest[:2] / digest


def archive_bytes(paths: DataPaths, data: bytes, digest: str) -> Path:
    """Keep the original bytes, content-addressed, before anything else is done with them. The
    bytes are written beside their final name and renamed, so a file under a hash is whole."""
    target = archived_path(paths, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(target)
    return target


def receipts_path(paths: DataPaths) -> Path:
    return paths.archive / RECEIPTS


def _json_ready(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def as_receipt(row: dict[str, object]) -> Receipt:
    """A raw.submission_files row as a receipt: times as ISO text, lists as lists."""
    return {column: _json_ready(value) for column, value in row.items()}


def read_receipts(paths: DataPaths) -> list[Receipt]:
    """Every receipt, in load order. A last line cut short by a crash is not a receipt."""
    path = receipts_path(paths)
    if not path.exists():
        return []
    receipts = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.endswith("\n"):
            receipts.append(json.loads(line))
    return receipts


def last_receipt(paths: DataPaths) -> Receipt | None:
    """The latest receipt, read from the end of the log: cheap however long the log is."""
    path = receipts_path(paths)
    if not path.exists():
        return None
    with path.open("rb") as log:
        size = log.seek(0, os.SEEK_END)
        chunk = 4096
        while True:
            start = max(0, size - chunk)
            log.seek(start)
            tail = log.read(size - start)
            # Complete lines only: a line cut short by a crash has no newline yet.
            lines = tail[: tail.rfind(b"\n") + 1].splitlines()
            if len(lines) > 1 or (lines and start == 0):
                return json.loads(lines[-1])
            if start == 0:
                return None
            chunk *= 4


def record_receipts(paths: DataPaths, receipts: Iterable[Receipt]) -> int:
    """Append receipts to the log and flush them to disk; returns how many. A line a crash cut
    short is dropped first, so every line of the log stays whole."""
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in receipts]
    if not lines:
        return 0
    path = receipts_path(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as log:
        size = log.seek(0, os.SEEK_END)
        if size:
            log.seek(max(0, size - 65536))
            tail = log.read()
            if not tail.endswith(b"\n"):
                log.truncate(size - len(tail) + tail.rfind(b"\n") + 1)
        log.write("".join(lines).encode("utf-8"))
        log.flush()
        os.fsync(log.fileno())
    return len(lines)


def warehouse_receipts(con: duckdb.DuckDBPyConnection, after: int = 0) -> list[Receipt]:
    """The rows of raw.submission_files after load sequence `after`, as receipts, in order."""
    cursor = con.execute(
        "select * from raw.submission_files where load_sequence > ? order by load_sequence",
        [after],
    )
    columns = [d[0] for d in cursor.description]
    return [as_receipt(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]


def sync_receipts(paths: DataPaths, con: duckdb.DuckDBPyConnection) -> int:
    """Append a receipt for every file the warehouse recorded since the log's last line, so
    the log catches up after a run, or after a run that was stopped before it could write them.
    Returns how many were added."""
    last = last_receipt(paths)
    after = int(last["load_sequence"]) if last else 0
    return record_receipts(paths, warehouse_receipts(con, after))
