"""engine/audio/heap.py, as the slice step uses it: after splitpoints.prefetched has run
the boundary model, an array of tens of MB comes from the heap (its freed pages are reused)
instead of a fresh mmap, measured by glibc's own accounting in a fresh process. (The page
faults this saves are measured by ``python -m bench audio_slice``: they vary from run to run
without it, so they make no test.)"""
from __future__ import annotations

import ctypes
import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

# prefetched on two half-minute ranges of noise in two threads ("off": the heap setting
# replaced by a no-op, so the two runs differ in it alone), then a 48 MB array: above
# the 32 MB that glibc's own threshold can rise to, below heap.MMAP_AT
CHILD = r"""
import ctypes, json, sys
import numpy as np
import engine.audio.heap as heap
from engine.audio import splitpoints
from engine.audio.slicer import frame_rms

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
if sys.argv[1] == "off":
    heap.hold_freed_memory = lambda: False
x = (np.random.default_rng(0).standard_normal(32000 * 64) * 0.1).astype(np.float32)
rms = frame_rms(x, 1280, 320)
ranges = [(0, 32000 * 30), (32000 * 31, 32000 * 61)]
splitpoints.prefetched(splitpoints.default_scorer(), x, rms, 320, 32000, ranges, workers=2)
before = libc.mallinfo2().hblkhd
big = np.ones(48 << 18, np.float32)
print(json.dumps((libc.mallinfo2().hblkhd - before) >> 20))
"""


def _mapped_mb(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], cwd=REPO, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


GLIBC_233 = platform.libc_ver()[0] == "glibc" and hasattr(ctypes.CDLL(None), "mallinfo2")


@pytest.mark.skipif(not GLIBC_233, reason="mallopt and mallinfo2 are glibc's (2.33+)")
def test_after_prefetched_big_arrays_reuse_the_heap():
    assert _mapped_mb("off") == 48  # glibc's default: its own mapping, unmapped on free
    assert _mapped_mb("on") == 0


def test_hold_freed_memory_says_whether_it_applied():
    from engine.audio.heap import hold_freed_memory

    assert hold_freed_memory() is (platform.libc_ver()[0] == "glibc")
