"""A small inter-process lock (fcntl.flock on a side file), so two processes (the TUI and a
job, or two CLI calls) never interleave read-modify-write cycles of the project file.

The holder writes its pid into the side file, so whoever times out can say who holds it.
Every failure is a ``ProjectError`` with a sentence: callers (panes, jobs) already catch it."""
from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path

from engine.errors import ProjectError


class LockTimeout(ProjectError):
    """Another process held the lock for longer than we were willing to wait."""


class FileLock:
    def __init__(self, path: Path | str, timeout: float = 30.0, *, what: str = "",
                 hint: str = "") -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.what = what or str(self.path)  # what the lock guards, as the user knows it
        self.hint = hint
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise lock_open_error(self.path, self.what, exc) from None
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    holder = _read_pid(fd)
                    os.close(fd)
                    raise self._timeout(holder) from None
                time.sleep(0.02)
        self._fd = fd
        try:  # a note for whoever waits; the lock itself does not depend on it
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass

    def _timeout(self, holder: int) -> LockTimeout:
        who = f"another process (pid {holder})" if holder else "another process"
        hint = self.hint or ("Wait for it to finish and try again; if that process is stuck, "
                             f"stop it{f' (`kill {holder}`)' if holder else ''}.")
        return LockTimeout(f"{self.what} is busy: {who} has held its lock ({self.path}) for "
                           f"over {self.timeout:g} s.", hint)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "FileLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int:
    try:
        return int(os.pread(fd, 32, 0).split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def lock_open_error(path: Path, what: str, exc: OSError) -> ProjectError:
    if exc.errno == errno.ENOSPC:
        return ProjectError(f"Disk full at {path.parent}: cannot create the lock for {what}.",
                            "Free some space and run again.")
    return ProjectError(f"Cannot lock {what}: {exc.strerror} ({path}).",
                        "Check that the project folder exists and that you may write to it.")
