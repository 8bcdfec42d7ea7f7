"""Decoded mono samples parked on disk, read back by range: lets the slicer handle a
2-hour recording while holding only the slices it is working on (a float32 copy of two
hours at 32 kHz would be 920 MB)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np

_ITEM = 4  # float32


class SampleFile:
    """A read-only, array-like view (``shape``, ``x[a:b]``) of float32 samples in a file."""

    def __init__(self, path: Path, n: int) -> None:
        self.path = Path(path)
        self.shape = (n,)
        self.size = n

    @classmethod
    def write(cls, path: Path, blocks: Iterable[np.ndarray]) -> "SampleFile":
        n = 0
        with open(path, "wb") as f:
            for block in blocks:
                data = np.ascontiguousarray(block, dtype="<f4")
                f.write(data.tobytes())
                n += data.size
        return cls(path, n)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("SampleFile supports contiguous slices only")
        start, stop, _ = key.indices(self.size)
        if stop <= start:
            return np.zeros(0, np.float32)
        with open(self.path, "rb") as f:
            f.seek(start * _ITEM)
            return np.fromfile(f, dtype="<f4", count=stop - start).astype(np.float32, copy=False)

    def unlink(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
