"""The warehouse file: one writer at a time, checked before it is trusted, rebuilt from the
archive when it is damaged or lost.

- A run holds the data root's lock (`<data root>/.lock`) from start to end, so a second run
  waits for the first, saying so, instead of failing part-way on DuckDB's own file lock.
- Before a run writes, the warehouse is checked: opened, CHECKPOINTed, every table of `raw` read
  through, and its files compared with the archive's receipts. A damaged, truncated or missing
  file stops the run with the file's name and the command that rebuilds it.
- `rebuild_raw` replays every receipt, batch by batch, in its original order and at its original
  time, through the real collection in a scratch folder; the result replaces the warehouse only
  when it matches the receipts row for row, so the same published figures come back."""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from pathlib import Path

import duckdb

from dagster_project.collect.api import PullResult, payload_submission
from dagster_project.collect.archive import (
    Receipt,
    archived_path,
    last_receipt,
    read_receipts,
    receipts_path,
    sync_receipts,
    warehouse_receipts,
)
from dagster_project.collect.load import Received, collect_submissions, receive_landing_file
from dagster_project.collect.validate import content_hash
from dagster_project.reference import Reference, load_reference
from dagster_project.settings import DataPaths, default_data_root

LOCK_FILE = ".lock"
SCRATCH = ".rebuild"  # where a rebuild works; a stopped rebuild's leftovers are removed
REBUILD_COMMAND = "digital-progress rebuild"

Announce = Callable[[str], None]


def say(message: str) -> None:
    """Tell the person at the terminal, on stderr so that piped output stays clean."""
    print(message, file=sys.stderr, flush=True)


# One writer at a time -------------------------------------------------------------------------


@dataclass
class _Held:
    descriptor: int
    depth: int


_held: dict[Path, _Held] = {}
_guard = threading.Lock()


def _holder(lock_file: Path) -> str:
    try:
        return lock_file.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def acquire_writer_lock(root: Path, announce: Announce = say) -> None:
    """Take the data root's lock, waiting for another run to finish first (and saying so).
    The lock is the operating system's (flock): a run that dies, even by kill -9, lets go of it.
    A process that already holds it may take it again (it is counted, not re-locked)."""
    with _guard:
        if root in _held:
            _held[root].depth += 1
            return
    root.mkdir(parents=True, exist_ok=True)
    lock_file = root / LOCK_FILE
    descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            announce(f"waiting for another run on {root} (pid {_holder(lock_file)}) to finish")
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
    except BaseException:
        os.close(descriptor)
        raise
    with _guard:
        _held[root] = _Held(descriptor, 1)


def release_writer_lock(root: Path) -> None:
    """Let the next run in. The pid is wiped first, so a waiter never names a finished run."""
    with _guard:
        held = _held.get(root)
        if held is None:
            return
        held.depth -= 1
        if held.depth:
            return
        del _held[root]
    try:
        os.ftruncate(held.descriptor, 0)
        fcntl.flock(held.descriptor, fcntl.LOCK_UN)
    finally:
        os.close(held.descriptor)


@contextmanager
def writer_lock(root: Path, announce: Announce = say) -> Iterator[None]:
    """Hold the data root's lock for the block."""
    acquire_writer_lock(root, announce)
    try:
        yield
    finally:
        release_writer_lock(root)


# Connections ----------------------------------------------------------------------------------

_CONFLICT = re.compile(r"Conflicting lock is held in (.*) \(PID (\d+)\)")


def connect(
    warehouse: Path, read_only: bool = False, announce: Announce | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse. With `announce`, a file another process has open (a dbt left running
    by a killed run, a DuckDB shell) is waited for, with a message, instead of failing."""
    told = False
    while True:
        try:
            return duckdb.connect(str(warehouse), read_only=read_only)
        except duckdb.IOException as error:
            found = _CONFLICT.search(str(error))
            if announce is None or found is None:
                raise
            if not told:
                announce(
                    f"waiting for {Path(found[1]).name} (pid {found[2]}), which has "
                    f"{warehouse} open, to close it"
                )
                told = True
            time.sleep(0.5)


# Is the warehouse whole? ----------------------------------------------------------------------


class WarehouseDamaged(Exception):
    """The warehouse cannot be trusted: the message names the file and how to rebuild it."""

    def __init__(self, paths: DataPaths, what: str):
        self.warehouse = paths.warehouse
        kept = " (the file there now is kept beside it)" if paths.warehouse.exists() else ""
        super().__init__(
            f"{paths.warehouse}: {what}.\n"
            f"Rebuild it from the archive with:  {REBUILD_COMMAND} --data {paths.root}\n"
            f"then run again{kept}."
        )


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def check_warehouse(paths: DataPaths, announce: Announce | None = say) -> int:
    """Open the warehouse, CHECKPOINT it, read every table of `raw` through (DuckDB verifies
    each block's checksum as it reads) and compare its files with the archive's receipts; then
    add the receipts it lacks. Raise WarehouseDamaged naming the file and the rebuild command.
    Returns how many receipts were added. Call it holding the writer lock."""
    last = last_receipt(paths)
    if not paths.warehouse.exists():
        if last is not None:
            raise WarehouseDamaged(
                paths,
                "the warehouse is missing, but the archive's receipts "
                f"({receipts_path(paths)}) record {last['load_sequence']} file(s) received",
            )
        return 0
    try:
        with connect(paths.warehouse, announce=announce) as con:
            con.execute("checkpoint")
            tables = [
                name
                for (name,) in con.execute(
                    "select table_name from duckdb_tables() "
                    "where database_name = current_database() and schema_name = 'raw' "
                    "order by table_name"
                ).fetchall()
            ]
            for table in tables:
                for _ in con.sql(f'select * from raw."{table}"').to_arrow_reader(100_000):
                    pass
            if "submission_files" not in tables:
                recorded = None
            else:
                recorded = con.execute(
                    "select load_sequence, content_hash from raw.submission_files "
                    "order by load_sequence desc limit 1"
                ).fetchone()
            if last is not None:
                _compare_with_receipts(paths, con, recorded, last)
            return sync_receipts(paths, con) if recorded else 0
    except duckdb.Error as error:
        raise WarehouseDamaged(
            paths, f"the warehouse cannot be read ({_first_line(error)})"
        ) from None


def _compare_with_receipts(
    paths: DataPaths, con: duckdb.DuckDBPyConnection, recorded: tuple | None, last: Receipt
) -> None:
    """A warehouse that knows fewer files than the receipts, or other files under the same
    numbers, is an older copy or was started afresh: its figures would silently differ."""
    sequence = int(last["load_sequence"])
    if recorded is None or recorded[0] < sequence:
        raise WarehouseDamaged(
            paths,
            f"the warehouse records {recorded[0] if recorded else 0} file(s), but the archive's "
            f"receipts ({receipts_path(paths)}) record {sequence}: it is an older copy, or was "
            "started afresh",
        )
    same = con.execute(
        "select content_hash = ? from raw.submission_files where load_sequence = ?",
        [last["content_hash"], sequence],
    ).fetchone()
    if not same or not same[0]:
        raise WarehouseDamaged(
            paths,
            f"file {sequence} of the warehouse is not file {sequence} of the archive's receipts "
            f"({receipts_path(paths)}): it was started afresh",
        )


def catch_up_receipts(paths: DataPaths) -> int:
    """Add the receipts of the files the warehouse recorded since the log's last line. A
    warehouse that cannot be read adds none: the next run's check reports it."""
    if not paths.warehouse.exists():
        return 0
    try:
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            return sync_receipts(paths, con)
    except duckdb.Error:
        return 0


# Rebuild `raw` from the archive ---------------------------------------------------------------


class RebuildError(Exception):
    """The archive cannot give back the warehouse it recorded; the warehouse is left as it was."""


@dataclass(frozen=True)
class Rebuilt:
    warehouse: Path
    kept: Path | None  # the file the rebuild replaced, kept beside it
    batches: int
    files: int
    accepted: int
    rows: int


def _replayed(paths: DataPaths, scratch: DataPaths, receipt: Receipt) -> Received:
    """A receipt as the collection received it then: the same bytes, name, sender and source.
    An entry refused without being read (a link, a pipe) had no bytes kept: it comes back
    empty, and so is rejected again."""
    name, sender, digest = receipt["file_name"], receipt["sender"], receipt["content_hash"]
    stored = archived_path(paths, digest)
    opened = stored.exists()
    if not opened and receipt["status"] == "accepted":
        raise RebuildError(
            f"{stored}: missing from the archive, but {name} (received "
            f"{receipt['received_at']}) was accepted"
        )
    data = stored.read_bytes() if opened else b""
    if opened and content_hash(data) != digest:
        raise RebuildError(
            f"{stored}: its SHA-256 is not {digest}: the archive itself is damaged "
            f"({name}, received {receipt['received_at']}); restore it from a backup"
        )
    if receipt["source"] == "api":
        result = PullResult(sender, "", "ok", 1, 200, "", data)
        item = Received(payload_submission(result), "api", data)
    else:
        item = receive_landing_file(scratch.landing / name, scratch.landing, sender, data)
        item.landing_path = None  # nothing to remove from landing/: it is a replay
    item.landing_mtime_ns = receipt.get("landing_mtime_ns")
    item.opened = opened
    if not opened:
        # a rejected file whose bytes are gone keeps the hash it was recorded with
        item.parsed.content_hash = digest
    return item


def _differences(replayed: list[Receipt], receipts: list[Receipt], paths: DataPaths) -> list[str]:
    by_sequence = {r["load_sequence"]: r for r in replayed}
    found = []
    for receipt in receipts:
        again = by_sequence.pop(receipt["load_sequence"], None)
        if again is None:
            found.append(f"{receipt['file_name']}: not recorded by the replay")
            continue
        columns = [c for c in receipt if c in again]
        if not archived_path(paths, str(receipt["content_hash"])).exists():
            # refused unread: which problem it had is not in the archive
            columns = [c for c in columns if c not in ("error_count", "warning_count")]
        changed = {c: (receipt[c], again[c]) for c in columns if receipt[c] != again[c]}
        if changed:
            what = ", ".join(f"{c} was {a!r}, replayed {b!r}" for c, (a, b) in changed.items())
            found.append(f"{receipt['file_name']} (received {receipt['received_at']}): {what}")
    found += [f"{r['file_name']}: recorded by the replay only" for r in by_sequence.values()]
    return found


def _set_aside(warehouse: Path) -> Path | None:
    """Keep the file being replaced (and its write-ahead log, which must never meet the new
    file) beside it, named by the time."""
    wal = warehouse.with_name(warehouse.name + ".wal")
    if not warehouse.exists() and not wal.exists():
        return None
    kept = warehouse.with_name(
        f"{warehouse.name}.before-rebuild-{datetime.now().strftime('%Y%m%dT%H%M%S')}"
    )
    if warehouse.exists():
        os.replace(warehouse, kept)
    if wal.exists():
        os.replace(wal, kept.with_name(kept.name + ".wal"))
    return kept


def rebuild_raw(
    paths: DataPaths, reference: Reference | None = None, announce: Announce = say
) -> Rebuilt:
    """Rebuild the warehouse's `raw` schema from archive/ and its receipts, holding the writer
    lock. The models and publications come back with the next run."""
    reference = reference or load_reference()
    with writer_lock(paths.root, announce):
        receipts = read_receipts(paths)
        if not receipts:
            raise RebuildError(
                f"{receipts_path(paths)}: no receipts, so there is nothing to rebuild from"
            )
        scratch = DataPaths(paths.root / SCRATCH)
        shutil.rmtree(scratch.root, ignore_errors=True)  # a stopped rebuild's leftovers
        scratch.root.mkdir()
        try:
            scratch.archive.symlink_to(paths.archive)  # read in place, never copied
            batches = 0
            for received_at, batch in groupby(receipts, key=lambda r: r["received_at"]):
                items = [_replayed(paths, scratch, receipt) for receipt in batch]
                collect_submissions(
                    scratch, reference, datetime.fromisoformat(str(received_at)), items
                )
                batches += 1
            with duckdb.connect(str(scratch.warehouse)) as con:
                replayed = warehouse_receipts(con)
                rows = con.execute("select count(*) from raw.submissions").fetchone()[0]
                con.execute("checkpoint")
            differences = _differences(replayed, receipts, paths)
            if differences:
                raise RebuildError(
                    f"replaying the archive does not give back what was recorded "
                    f"({len(differences)} file(s)); the rules or the reference data may have "
                    "changed since. The warehouse is left as it was. First differences:\n  "
                    + "\n  ".join(differences[:5])
                )
            kept = _set_aside(paths.warehouse)
            os.replace(scratch.warehouse, paths.warehouse)
        finally:
            shutil.rmtree(scratch.root, ignore_errors=True)
    return Rebuilt(
        paths.warehouse,
        kept,
        batches,
        len(receipts),
        sum(r["status"] == "accepted" for r in receipts),
        rows,
    )


# For the Makefile -----------------------------------------------------------------------------


def _check_command(paths: DataPaths) -> int:
    """Exit status of `--check`: 2, with the file and the rebuild command, when it is damaged."""
    try:
        with writer_lock(paths.root):
            check_warehouse(paths)
    except WarehouseDamaged as error:
        say(str(error))
        return 2
    return 0


def _locked_command(paths: DataPaths, command: list[str]) -> int:
    """Run a command while holding the writer lock (a read that must not meet a running load)."""
    with writer_lock(paths.root):
        return subprocess.run(command).returncode


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="check the warehouse; exit 2 when it is damaged"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- a command to run locked")
    arguments = parser.parse_args()
    data = DataPaths(default_data_root())
    if arguments.check and (status := _check_command(data)):
        sys.exit(status)
    if arguments.command:
        sys.exit(_locked_command(data, arguments.command[arguments.command[0] == "--" :]))
