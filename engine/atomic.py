"""Atomic file writes: temp file in the same folder, fsync, rename, fsync the folder.
A reader (or a crash) sees either the old file or the new one, never half of one; a full
disk leaves the old file and raises engine.diskfull.DiskFull with its sentence."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from engine.diskfull import reraise


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    path = Path(path)
    tmp = None
    try:
        tmp = write_temp(path, data)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            reraise(exc, path.parent, len(data))  # ENOSPC: the sentence, old file intact
        raise
    fsync_dir(path.parent)


def write_temp(path: Path, data: bytes) -> str:
    """``data`` in a new temp file beside ``path`` (same folder, so a rename or link into
    place stays on one file system), flushed to disk; returns its name. On any failure the
    temp file is removed and the error propagates unchanged."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def atomic_write_text(path: Path | str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def fsync_dir(folder: Path) -> None:
    """Make a rename or new name in ``folder`` survive a power cut (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
