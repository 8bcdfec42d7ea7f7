"""Streaming sound-file writes that keep the operating system's error.

libsndfile turns a failed write() into "System error." with no errno, so a full disk
could not be told from a bug. Writing through our own unbuffered file object keeps the
OSError (ENOSPC and all) and raises it instead.
"""
from __future__ import annotations

import io
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class _Sink:
    """The file object libsndfile writes through; remembers the first OSError."""

    def __init__(self, raw: io.RawIOBase) -> None:
        self._raw = raw
        self.error: OSError | None = None

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        done = 0
        try:
            while done < len(view):
                n = self._raw.write(view[done:])
                if not n:  # a short write that made no progress: report it as the OS would
                    raise OSError("write made no progress")
                done += n
        except OSError as exc:
            self.error = self.error or exc
        return done  # short: libsndfile then fails the call, and we raise self.error

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def read(self, n: int = -1) -> bytes:
        return self._raw.read(n)


@contextmanager
def open_wav(path: Path | str, sample_rate: int, channels: int, subtype: str,
             format: str = "WAV") -> Iterator["object"]:
    """``soundfile.SoundFile`` open for writing ``path``; a failed write raises the OSError."""
    import soundfile as sf

    with open(path, "wb", buffering=0) as raw:
        sink = _Sink(raw)
        try:
            with sf.SoundFile(sink, "w", sample_rate, channels, subtype, format=format) as out:
                yield out
        except Exception as exc:
            if sink.error is not None:
                raise sink.error from exc
            raise
        if sink.error is not None:  # the header rewrite at close failed silently
            raise sink.error
