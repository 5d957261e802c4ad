"""Publish safely: each publication is built in a new folder and switched into place with one
atomic rename of a symlink. Readers see the old publication or the new one, never half of each;
if building fails, the previous publication stays exactly as it was. A publication killed
part-way (no `except` runs after kill -9) leaves its half-built folder behind: the next release
of the same target removes it, never the folder the target points at.

A publication records what it was made from (a fingerprint of its inputs: the rows it reads,
the code, templates, words and reference data that render them) so that a run with nothing new
can keep the live publication rather than build the same bytes again."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import version
from pathlib import Path

import duckdb

from dagster_project import reference
from dagster_project.catalogue import CATALOGUE_DIR
from dagster_project.settings import REFERENCE_DIR

RELEASES = ".releases"
INPUTS = ".inputs.sha256"
# What renders every publication: this package (code and templates), the words, the reference
# data; and the libraries whose output is in the files.
# reference.py reads the reference data (sector order, names) and PyYAML the words.
RENDERED_BY = (
    Path(__file__).resolve().parent,
    CATALOGUE_DIR,
    REFERENCE_DIR,
    Path(reference.__file__).resolve(),
)
LIBRARIES = ("duckdb", "jinja2", "markupsafe", "pyarrow", "pyyaml", "xlsxwriter")


def release(
    target: Path, build: Callable[[Path], object], carry_over: tuple[str, ...] = ()
) -> Path:
    """Build into a fresh folder, then make `target` point at it. `carry_over` names things in
    the previous release to keep (an Evidence project's node_modules, installed by a user)."""
    releases = target.parent / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target, carry_over)
    new = Path(tempfile.mkdtemp(prefix=f"{target.name}-", dir=releases))
    new.chmod(0o755)  # mkdtemp makes it private; a publication is for everyone to read
    try:
        build(new)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    previous = None
    if target.is_symlink():
        previous = target.resolve()
    elif target.exists():  # a plain folder from before releases existed
        previous = Path(tempfile.mkdtemp(prefix=f"{target.name}-old-", dir=releases))
        previous.rmdir()
        target.rename(previous)
    for name in carry_over:
        if previous is not None and (previous / name).exists() and not (new / name).exists():
            (previous / name).rename(new / name)
    link = releases / f".{new.name}.link"
    link.symlink_to(Path(RELEASES) / new.name)
    os.replace(link, target)  # the atomic switch
    if previous is not None and previous != new:
        shutil.rmtree(previous, ignore_errors=True)
    return new


def remove_leftovers(target: Path, carry_over: tuple[str, ...] = ()) -> list[str]:
    """Remove what killed releases of `target` left in .releases/ (half-built folders, unused
    links), never the live folder the target points at nor another target's. A carried-over
    thing found in a leftover (the kill came after it moved) goes back to the live folder.
    Returns the names removed. Assumes one publisher at a time (the data root's writer lock)."""
    releases = target.parent / RELEASES
    if not releases.is_dir():
        return []
    live = target.resolve() if target.is_symlink() else None
    # mkdtemp names: the prefix, then 8 of [a-z0-9_]; links are the same name, dotted, `.link`
    ours = re.compile(rf"(\.)?{re.escape(target.name)}-(old-)?[a-z0-9_]{{8}}(?(1)\.link)")
    removed = []
    for entry in sorted(releases.iterdir()):
        if not ours.fullmatch(entry.name):
            continue
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink()  # a link: only the link goes, never what it points at
        elif live is not None and entry.resolve() == live:
            continue
        else:
            for name in carry_over:
                if (entry / name).exists() and live is not None and not (live / name).exists():
                    (entry / name).rename(live / name)
            shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry.name)
    return removed


def sources_fingerprint(folders: Iterable[Path] = RENDERED_BY) -> str:
    """SHA-256 of the files that render publications (names and bytes, compiled files left
    out), the library versions and the Python version: a change to any of them re-renders."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else [folder]:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(f"{path.relative_to(folder.parent).as_posix()}\0".encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    for library in LIBRARIES:
        digest.update(f"{library}={version(library)}\0".encode())
    digest.update(f"python={sys.version_info[:2]}".encode())
    return digest.hexdigest()


def rows_digest_sql(sql: str, by: str | None = None) -> str:
    """SQL giving the SHA-256 of a query's rows (per `by` column when given), whatever their
    order: each row as JSON (strings escaped, doubles as they round-trip), hashed (so that the
    memory held is 64 characters a row), sorted and joined."""
    row = "sha256(to_json(q)::varchar)"
    digest = f"sha256(coalesce(string_agg({row}, chr(10) order by {row}), ''))"
    if by is None:
        return f"select {digest} from ({sql}) q"
    return f"select {by}, {digest} as digest from ({sql}) q group by {by}"


def query_fingerprint(con: duckdb.DuckDBPyConnection, queries: Sequence[str]) -> str:
    """SHA-256 of what each query returns: its columns and their types, then its rows."""
    digest = hashlib.sha256()
    for sql in queries:
        digest.update(schema_of(con, sql).encode())
        digest.update(con.execute(rows_digest_sql(sql)).fetchone()[0].encode())
    return digest.hexdigest()


def schema_of(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """A query's column names and types: the same values typed otherwise are written otherwise."""
    description = con.execute(f"select * from ({sql}) q limit 0").description
    return ",".join(f"{name} {kind}" for name, kind, *_ in description)


def _recorded(target: Path) -> list[str]:
    try:
        return (target / INPUTS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def live_inputs(target: Path) -> str | None:
    """The inputs fingerprint the live publication at `target` was made from, if it says."""
    recorded = _recorded(target)
    return recorded[0].strip() if recorded else None


def record_inputs(folder: Path, inputs: str) -> None:
    """The inputs fingerprint on the first line, then the SHA-256 of every file of the
    publication as built, so that a live release damaged by hand is noticed (and the list,
    like the files, is the same for the same inputs)."""
    lines = [inputs]
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            lines.append(f"{_file_sha256(path)} {path.relative_to(folder).as_posix()}")
    (folder / INPUTS).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def damaged(target: Path) -> list[str]:
    """The files of the live publication at `target` that are missing or no longer as built;
    every file, when it never listed them."""
    recorded = _recorded(target)
    if len(recorded) < 2:
        return ["(no list of files)"]
    found = []
    for line in recorded[1:]:
        digest, relative = line.split(" ", 1)
        try:
            same = _file_sha256(target / relative) == digest
        except OSError:
            same = False
        if not same:
            found.append(relative)
    return found


def carry_file(source: Path, target: Path) -> None:
    """The same file in a new release, by a hard link (no bytes copied; the old release's
    removal leaves it whole), or by a copy where links are refused (another file system)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
