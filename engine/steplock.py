"""One run per step at a time: ``runs/<step>/.lock``, held for the whole run.

It is an ``flock``, which belongs to the open file: the kernel drops it when its holder exits,
even on kill -9, so a crashed run never blocks the next one. A job's lock is taken by
``jobs.submit`` and handed to the child as an inherited open file, so there is no moment
between the check and the child's start where a second run could slip in.

The file holds a small JSON note (pid, job id, start time, how the run was started) so a
refused start can name the run that holds it. The note is only believed while the lock is
held: a note left behind by a killed run is never read as "running"."""
from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.events import StepError
from engine.filelock import lock_open_error
from engine.steps import REGISTRY

LOCK_NAME = ".lock"
# A probe (``holder()``, a settle after cancel) holds the lock for microseconds; a run holds
# it for minutes. Retrying this long tells the two apart.
BUSY_WAIT_S = 0.3


@dataclass
class Holder:
    pid: int = 0
    job: str = ""  # job id (its run folder's name); "" for an inline run
    started: float = 0.0
    how: str = ""  # "job", or the command line of an inline run


class StepBusy(StepError):
    """Another run of this step holds its lock."""

    def __init__(self, reason: str, hint: str, holder: Holder | None) -> None:
        super().__init__(reason, hint)
        self.holder = holder


def lock_path(root: Path | str, step_id: str) -> Path:
    return Path(root) / "runs" / step_id / LOCK_NAME


def step_title(step_id: str) -> str:
    info = REGISTRY.get(step_id)
    return info.title if info else step_id.capitalize()


def command_line() -> str:
    """How this process was started, as a user would type it (for an inline run's note)."""
    argv = list(sys.argv) or ["python"]
    name = Path(argv[0]).name
    argv[0] = "gsv" if name in ("cli.py", "__main__.py", "gsv") else name
    return shlex.join(argv)[:160]


class StepLock:
    """A held step lock; ``release()`` (or the process ending) frees it."""

    def __init__(self, fd: int, root: Path, step_id: str) -> None:
        self.fd = fd
        self.root = Path(root)
        self.step_id = step_id

    @classmethod
    def acquire(cls, root: Path | str, step_id: str, holder: Holder, *,
                wait: float = BUSY_WAIT_S) -> "StepLock":
        """Take the lock or raise ``StepBusy`` naming the run that holds it."""
        lock = cls.try_acquire(root, step_id, wait=wait)
        if lock is None:
            raise busy_error(root, step_id, read_note(root, step_id))
        lock.note(holder)
        return lock

    @classmethod
    def try_acquire(cls, root: Path | str, step_id: str, *, wait: float = BUSY_WAIT_S
                    ) -> "StepLock | None":
        path = lock_path(root, step_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            err = lock_open_error(path, f"the {step_title(step_id)} step", exc)
            raise StepError(err.message, err.hint) from None
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return cls(fd, Path(root), step_id)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return None
                time.sleep(0.01)

    @classmethod
    def adopt(cls, fd: int, root: Path | str, step_id: str) -> "StepLock":
        """The job child's side: the lock its parent took, inherited as ``fd``. It is made
        close-on-exec so programs the step starts (ffmpeg…) do not keep it alive."""
        os.set_inheritable(fd, False)
        return cls(fd, Path(root), step_id)

    def note(self, holder: Holder) -> None:
        data = json.dumps(asdict(holder)).encode("utf-8")
        try:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, data, 0)
        except OSError:
            pass  # the note only improves the refusal message; the lock holds without it

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the last copy of the open file drops the flock
            self.fd = -1

    def __enter__(self) -> "StepLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def tidy_lock(root: Path | str, step_id: str, job: str) -> StepLock | None:
    """The lock, taken to record how a dead job ended, or None if a new run holds it (then
    the step's status belongs to that run)."""
    lock = StepLock.try_acquire(root, step_id, wait=0)
    if lock is not None:
        lock.note(Holder(pid=os.getpid(), started=time.time(), how=f"recording how job {job} ended"))
    return lock


def read_note(root: Path | str, step_id: str) -> Holder | None:
    try:
        data = json.loads(lock_path(root, step_id).read_bytes() or b"null")
        return Holder(**{k: data[k] for k in ("pid", "job", "started", "how") if k in data})
    except (OSError, ValueError, TypeError):
        return None


def holder(root: Path | str, step_id: str) -> Holder | None:
    """Who runs ``step_id`` now (an empty Holder if the note is unreadable), or None."""
    if not lock_path(root, step_id).exists():
        return None
    lock = StepLock.try_acquire(root, step_id, wait=0)
    if lock is not None:
        lock.release()
        return None
    return read_note(root, step_id) or Holder()


def busy_error(root: Path | str, step_id: str, who: Holder | None) -> StepBusy:
    title = step_title(step_id)
    where = shlex.quote(str(root))
    if who is None or not who.pid:
        return StepBusy(f"{title} is already running (another process holds "
                        f"{lock_path(root, step_id)}).",
                        f"Wait for it to finish; `gsv jobs -C {where}` lists running jobs.", who)
    when = _clock(who.started)
    if who.job:
        return StepBusy(f"{title} is already running (job {who.job}, started {when}, pid {who.pid}).",
                        f"Follow it with `gsv jobs --follow {who.job} -C {where}` or stop it with "
                        f"`gsv jobs --cancel {who.job} -C {where}`.", who)
    by = f" by `{who.how}`" if who.how else ""
    return StepBusy(f"{title} is already running (started {when}{by}, pid {who.pid}).",
                    f"Wait for it to finish, or stop it with Ctrl-C in its terminal "
                    f"(or `kill {who.pid}`).", who)


def _clock(ts: float) -> str:
    if not ts:
        return "at an unknown time"
    t = _dt.datetime.fromtimestamp(ts)
    return t.strftime("%H:%M") if t.date() == _dt.date.today() else t.strftime("%Y-%m-%d %H:%M")
