"""The two locks on a ``.list`` (fcntl.flock on hidden side files next to it).

- The **write lock** is short: whoever changes the list or its journal (the editor on each edit
  and flush, an ASR run merging its results) holds it for one read-merge-write, so two writers
  never interleave and none overwrites what the other just wrote. ASR needs only this one.
- The **session lock** is held as long as an editor is open: one editor per list, a second
  one is refused with a sentence that names the first.

flock locks belong to the open file, so a process killed with SIGKILL frees them at once.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

from engine.events import StepError

WRITE_WAIT_S = 30.0  # a merge of 10,000 clips takes well under a second; this is a hang


def write_lock_path(list_file: Path) -> Path:
    return list_file.with_name(f".{list_file.name}.lock")


def session_lock_path(list_file: Path) -> Path:
    return list_file.with_name(f".{list_file.name}.editor")


class ListBusy(StepError):
    """Another editor has this list open (or a writer hung holding the write lock)."""


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


class WriteLock:
    """Re-entrant within one thread of one object (an edit that also flushes takes it twice);
    the editor's list-writer thread waits for the UI thread like any other writer."""

    def __init__(self, list_file: Path, timeout: float = WRITE_WAIT_S) -> None:
        self.list_file = Path(list_file)
        self.path = write_lock_path(self.list_file)
        self.timeout = timeout
        self._fd: int | None = None
        self._depth = 0
        self._thread_lock = threading.RLock()

    def __enter__(self) -> "WriteLock":
        self._thread_lock.acquire()
        try:
            self._enter()
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def _enter(self) -> None:
        if self._depth == 0:
            fd = _open(self.path)
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        os.close(fd)
                        raise ListBusy(
                            f"{self.list_file} stayed locked for {self.timeout:.0f} s by "
                            "another writer.",
                            "Wait for the transcribe job to finish (gsv jobs), then try "
                            "again.") from None
                    time.sleep(0.01)
            self._fd = fd
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        try:
            self._depth -= 1
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
                self._fd = None
        finally:
            self._thread_lock.release()


def _holder_text(raw: bytes) -> str:
    try:
        h = json.loads(raw.decode("utf-8"))
        who = h.get("who") or "another editor"
        since = time.strftime("%H:%M", time.localtime(float(h["since"])))
        where = "" if h.get("host") == socket.gethostname() else f" on {h.get('host')}"
        return f"{who} (pid {int(h['pid'])}{where}, open since {since})"
    except (ValueError, KeyError, TypeError, AttributeError):
        return "another editor"


class SessionLock:
    """Held by an open editor; :meth:`acquire` refuses at once when another one holds it."""

    def __init__(self, list_file: Path, who: str = "") -> None:
        self.list_file = Path(list_file)
        self.path = session_lock_path(self.list_file)
        self.who = who or describe_process()
        self._fd: int | None = None

    def acquire(self) -> "SessionLock":
        fd = _open(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_text(os.pread(fd, 4096, 0))
            os.close(fd)
            raise ListBusy(f"{self.list_file.name} is already open in {holder}.",
                           "Close that editor first (q), or keep working there: one editor "
                           "per list, so no edit is lost.") from None
        note = {"who": self.who, "pid": os.getpid(), "host": socket.gethostname(),
                "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(note).encode("utf-8"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def describe_process() -> str:
    """How the user started this process, in their words: "gsv proofread", "the gsv app"."""
    argv = [os.path.basename(a) for a in sys.argv[:2]]
    if "proofread" in sys.argv[1:3]:
        return "gsv proofread"
    if argv and argv[0] in ("gsv", "gsv-tui", "cli.py", "-m"):
        return "the gsv app"
    return "an editor"
