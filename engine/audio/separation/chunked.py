"""Run a fixed-length separation network over a wave of any length: overlapping chunks,
cross-faded, averaged by their summed window weights.

Our re-implementation of the scheme ZFTurbo's inference (and upstream GPT-SoVITS's
bsroformer.py) uses: chunks of ``chunk`` samples every ``chunk // num_overlap``; linear
fades of ``chunk // 10`` where chunks overlap (none at the wave's two ends); the wave
reflect-padded by the overlap at both ends when it is long enough, so its first and last
samples sit inside a chunk too. Differences, on purpose: the fade is never longer than the
overlap and each chunk gets its own window, so no sample ends with a zero total weight (with
num_overlap 1 upstream's fades divide 0 by 0 at every seam), and the tail stops at the chunk
that reaches the end.

Memory: the padded copy, the stems' accumulators (stems × the wave) and one weight per
sample, plus ``batch_size`` chunks in the network at a time.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

RunBatch = Callable[[np.ndarray], np.ndarray]  # (B, ch, chunk) → (B, stems, ch, chunk)


def plan(length: int, chunk: int, num_overlap: int) -> tuple[int, int, list[int]]:
    """(border padded on each side, fade length, chunk starts in the padded wave)."""
    step = max(1, chunk // max(1, num_overlap))
    border = chunk - step
    if not (border > 0 and length > 2 * border):
        border = 0
    fade = min(chunk // 10, chunk - step)
    total = length + 2 * border
    starts = [0]
    while starts[-1] + chunk < total:
        starts.append(starts[-1] + step)
    return border, fade, starts


def _window(chunk: int, fade: int, first: bool, last: bool) -> np.ndarray:
    w = np.ones(chunk, dtype=np.float32)
    if fade > 0 and not first:
        w[:fade] = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    if fade > 0 and not last:
        w[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return w


def _take(x: np.ndarray, start: int, chunk: int) -> np.ndarray:
    part = x[:, start:start + chunk]
    n = part.shape[1]
    if n == chunk:
        return part
    mode = "reflect" if chunk - n < n else "constant"  # reflect needs more samples than pad
    return np.pad(part, ((0, 0), (0, chunk - n)), mode=mode)


def overlap_add(x: np.ndarray, run: RunBatch, chunk: int, num_overlap: int,
                batch_size: int = 1, progress: Callable[[float], None] | None = None
                ) -> np.ndarray:
    """x: (ch, L) float32 → (stems, ch, L) float32."""
    length = x.shape[1]
    border, fade, starts = plan(length, chunk, num_overlap)
    xp = np.pad(x, ((0, 0), (border, border)), mode="reflect") if border else x
    total = xp.shape[1]
    acc: np.ndarray | None = None
    weight = np.zeros(total, dtype=np.float32)
    batch_size = max(1, batch_size)
    for b0 in range(0, len(starts), batch_size):
        group = starts[b0:b0 + batch_size]
        out = run(np.stack([_take(xp, s, chunk) for s in group]))
        if acc is None:
            acc = np.zeros((out.shape[1], x.shape[0], total), dtype=np.float32)
        for j, s in enumerate(group):
            k = b0 + j
            n = min(chunk, total - s)
            w = _window(chunk, fade, k == 0, k == len(starts) - 1)[:n]
            acc[:, :, s:s + n] += out[j][:, :, :n] * w
            weight[s:s + n] += w
        if progress is not None:
            progress(min(1.0, (b0 + len(group)) / len(starts)))
    assert acc is not None
    acc /= np.maximum(weight, 1e-8)
    return acc[:, :, border:border + length]
