"""A full disk, said one way everywhere: "disk full at PATH: free N MB and run again".

Writers that know how much they still need wrap their work in :func:`on_full`; anything
else that hits ENOSPC reaches the step runner, which says the same with an estimate.
"""
from __future__ import annotations

import errno
import math
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from engine.events import StepError

MB = 1 << 20  # what df -m counts
GUESS = 100 * MB  # what we ask for when the writer could not say what it needed
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _FULL


def free_bytes(path: Path | str) -> int | None:
    """Free space on the file system holding ``path`` (its nearest existing folder)."""
    p = Path(path)
    for folder in (p, *p.parents):
        if folder.exists():
            try:
                return shutil.disk_usage(folder).free
            except OSError:
                return None
    return None


class DiskFull(OSError, StepError):
    """ENOSPC with its sentence. Still an OSError (errno ENOSPC), so code that handles
    OS errors keeps working; also a StepError, so the runner shows the sentence, never a
    traceback."""

    def __init__(self, path: Path | str, needed: int | None = None) -> None:
        folder = Path(path)
        free = free_bytes(folder)
        want = needed if needed and needed > 0 else GUESS
        short = want - (free or 0)
        to_free = max(1, math.ceil(short / MB)) if short > 0 else max(1, math.ceil(want / MB))
        reason = f"disk full at {folder}: free {to_free} MB and run again"
        said = "about" if needed else "an estimated"
        hint = (f"{'unknown' if free is None else f'{free / MB:.0f} MB'} free there now; "
                f"this needs {said} {max(1, round(want / MB))} MB.")
        OSError.__init__(self, errno.ENOSPC, reason, str(folder))
        self.reason, self.hint = reason, hint
        self.path, self.needed, self.free = folder, needed, free

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self):  # OSError's own pickling would pass its three args back in
        return (type(self), (self.path, self.needed))


def reraise(exc: OSError, path: Path | str, needed: int | None = None) -> None:
    """Raise ``exc`` again, as :class:`DiskFull` when it is ENOSPC."""
    if is_disk_full(exc):
        raise DiskFull(path, needed) from exc
    raise exc


@contextmanager
def on_full(path: Path | str, needed: Callable[[], int | None] | None = None
            ) -> Iterator[None]:
    """ENOSPC inside the block becomes DiskFull at ``path``; ``needed()`` (called only
    then, after the block's own clean-up ran) estimates the bytes the whole job needs."""
    try:
        yield
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        want = None
        if needed is not None:
            try:
                want = needed()
            except Exception:  # noqa: BLE001 -- an estimate must never hide the real error
                want = None
        if want is None and isinstance(exc, DiskFull):
            want = exc.needed
        raise DiskFull(path, want) from exc


def from_error(exc: BaseException, where: Path | str | None = None) -> DiskFull | None:
    """The sentence for an ENOSPC that escaped a step (the runner's last resort). A failed
    write() names no file, so ``where`` (the project folder) stands in for it."""
    if isinstance(exc, DiskFull):
        return exc
    if not is_disk_full(exc):
        return None
    name = getattr(exc, "filename", None)
    return DiskFull(Path(name).parent if name else Path(where or Path.cwd()))
