"""Bounded memory for any Separator: a stream of (frames, 2) blocks is cut into segments of
``segment_s`` seconds that overlap by ``overlap_s``; each segment is separated on its own and
neighbours are cross-faded linearly over the overlap (the two weights sum to one), so a
2-hour file never sits in memory. Held at once: one segment of input, its two stems and the
model's working copies (VR: the segment's spectrogram, about 25 MB per 30 s).

A model that streams by itself (MDX-Net: fixed windows with context) is used as it is."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from engine.audio.separation.base import Separator

SEGMENT_S = 30.0
OVERLAP_S = 2.0


def stream(sep: Separator, blocks: Iterator[np.ndarray], segment_s: float = SEGMENT_S,
           overlap_s: float = OVERLAP_S) -> Iterator[np.ndarray]:
    """(frames, 2) blocks at ``sep.sample_rate`` in, the voice stem's blocks out."""
    own = getattr(sep, "stream", None)
    if callable(own):
        yield from own(blocks)
        return
    sr = sep.sample_rate
    length = max(int(segment_s * sr), 2)
    over = min(max(int(overlap_s * sr), 1), length // 2)
    hop = length - over
    fade = ((np.arange(over) + 0.5) / over).astype(np.float32)[:, None]
    tail: np.ndarray | None = None

    def run(x: np.ndarray) -> np.ndarray:
        return sep.separate(np.ascontiguousarray(x.T), None)[0].T

    def emit(y: np.ndarray, last: bool) -> Iterator[np.ndarray]:
        nonlocal tail
        if tail is not None:
            yield tail * (1 - fade) + y[:over] * fade
            y = y[over:]
        if last:
            tail = None
            yield y
        else:
            tail = y[-over:]
            yield y[:-over]

    buf = np.zeros((0, 2), np.float32)
    for block in blocks:
        buf = np.concatenate([buf, block.astype(np.float32, copy=False)])
        while buf.shape[0] >= length:
            yield from emit(run(buf[:length]), last=False)
            buf = buf[hop:]
    if tail is None:
        if buf.shape[0]:
            yield run(buf)
    elif buf.shape[0] > over:
        yield from emit(run(buf), last=True)
    else:
        yield tail


def stereo_at(blocks: Iterator[np.ndarray], sr_in: int, sr_out: int) -> Iterator[np.ndarray]:
    """Any channel count at ``sr_in`` → stereo float32 at ``sr_out`` (mono duplicated, extra
    channels dropped): what every UVR family was trained on."""
    import soxr

    rs = None if sr_in == sr_out else soxr.ResampleStream(sr_in, sr_out, 2, dtype="float32")
    for block in blocks:
        st = np.repeat(block, 2, axis=1) if block.shape[1] == 1 else block[:, :2]
        st = np.ascontiguousarray(st, dtype=np.float32)
        out = st if rs is None else rs.resample_chunk(st)
        if out.size:
            yield out
    if rs is not None:
        tail = rs.resample_chunk(np.zeros((0, 2), np.float32), last=True)
        if tail.size:
            yield tail
