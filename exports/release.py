"""Publish safely: each publication is built in a new folder and switched into place with one
atomic rename of a symlink. Readers see the old publication or the new one, never half of each;
if building fails, the previous publication stays exactly as it was."""

from __future__ import annotations

import os
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
