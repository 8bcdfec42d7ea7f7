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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        reraise(exc, path.parent, len(data))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            reraise(exc, path.parent, len(data))  # ENOSPC: the sentence, old file intact
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path | str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
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
