"""Where synthesis writes: always a plain file name inside ``output/``, never over a file
that is already there. A name with a folder in it (absolute, ``..``, a separator) is refused
rather than trimmed, so the user learns where the file goes; a name that is taken gets
``-2``, ``-3``, … (the Result names the file), as a second take of the same line should
not wipe the first."""
from __future__ import annotations

import os
from pathlib import Path

from engine.atomic import fsync_dir, write_temp
from engine.events import StepError

_MAX_TRIES = 10_000


def check_name(name: str, what: str = "output_name") -> str:
    """``name`` when it is a plain file name; a StepError that says why otherwise."""
    bad = ""
    if "\0" in name:
        bad = "it contains a NUL character"
    elif os.path.isabs(name):
        bad = "it is an absolute path"
    elif "/" in name or "\\" in name or (os.altsep and os.altsep in name):
        bad = "it contains a folder separator"
    elif name.strip() in (".", ".."):
        bad = "it names a folder"
    if bad:
        raise StepError(f"{what} {name!r} is not a plain file name: {bad}.",
                        "Give just a name such as 'greeting' or 'greeting.wav'; files always "
                        "go into the project's output/ folder.")
    return name


def wav_path(folder: Path, name: str) -> Path:
    check_name(name)
    return folder / (name if name.endswith(".wav") else name + ".wav")


def _candidates(path: Path):
    yield path
    for n in range(2, _MAX_TRIES):
        yield path.with_name(f"{path.stem}-{n}{path.suffix}")


def write_new(path: Path, data: bytes, *, also_free: tuple[str, ...] = ()) -> Path:
    """Write ``data`` at ``path`` or, when that is taken, at the first free ``<stem>-N``
    name; returns the path written. The file appears complete (temp file + fsync, then a
    hard link, which fails rather than replace a file that appeared meanwhile). A name
    is free only when the files with the suffixes in ``also_free`` (a sidecar) are too."""
    tmp = write_temp(path, data)
    try:
        for cand in _candidates(path):
            if any(cand.with_suffix(s).exists() for s in also_free):
                continue
            try:
                os.link(tmp, cand)
            except FileExistsError:
                continue
            except OSError:  # a filesystem without hard links: claim the name, then fill it
                try:
                    os.close(os.open(cand, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                except FileExistsError:
                    continue
                os.replace(tmp, cand)
            fsync_dir(path.parent)  # the new name survives a power cut
            return cand
        raise StepError(f"{_MAX_TRIES} files named like {path.name} are already in "
                        f"{path.parent}.", "Pick another output name.")
    finally:
        Path(tmp).unlink(missing_ok=True)
