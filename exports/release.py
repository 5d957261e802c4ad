"""Publish safely: each publication is built in a new folder and switched into place with one
atomic rename of a symlink. Readers see the old publication or the new one, never half of each;
if building fails, the previous publication stays exactly as it was. A publication killed
part-way (no `except` runs after kill -9) leaves its half-built folder behind: the next release
of the same target removes it, never the folder the target points at."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

RELEASES = ".releases"


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
