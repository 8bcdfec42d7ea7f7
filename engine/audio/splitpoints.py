"""Where a clip longer than the maximum is cut: between sentences, not inside them.

Upstream's slicer only cuts at silences below a fixed threshold, so a run of sentences
spoken 0–60 ms apart (or any speech over a noise floor above the threshold) comes out as
one long clip. Such a clip is handled in two passes:

1. a local threshold (the clip's own noise floor plus a margin) replays upstream's rules
   inside it, so a noisy recording is still cut at its pauses;
2. what is still too long is cut at low-energy valleys picked by a dynamic programme: every
   piece between ``min_piece`` and the maximum, the fewest cuts, and each cut in the
   deepest and longest valley the lengths allow (one quiet frame inside a word does not
   outrank a real gap between sentences).

Finally, leftovers under a second are merged with a neighbour where the maximum allows.
Everything works on the RMS frames upstream's slicer computes anyway (10 ms hops), never
on the samples, so a one-hour file costs milliseconds here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from engine.audio.slicer import (FrameGrid, SlicerParams, enforce_max_length, frame_rms,
                                 silence_tags, slice_bounds, tags_to_bounds)

FLOOR_PCT = 2.0  # percentile of the clip's frames taken as its noise floor
FLOOR_MARGIN_DB = 6.0  # the local threshold sits this far above the floor ...
SPEECH_MARGIN_DB = 10.0  # ... and at least this far below the speech level
LEVEL_PCT = 90.0  # percentile of a block's frames taken as its speech level
LEVEL_BLOCK = 200  # frames per block for the speech level (2 s at 10 ms hops)
DEPTH_RANGE_DB = 50.0  # a valley this far below the speech level counts as fully deep
SHORT_SCALE = 2  # half-width, in frames, of the short smoothing (depth)
LONG_SCALE = 4  # half-width, in frames, of the long smoothing (length)
CUT_COST = 2.0  # a cut costs this minus its valley's score (in [0, 1]): fewest cuts first
TINY = 1e-10
# A valley's score: how low its lowest frame goes, how low its ±2 frames stay (depth),
# how low its ±4 frames stay (length). Measured on the benchmark, the lowest frame alone
# or depth and length alone each cut a few more sentences than this mix.
W_BOTTOM, W_DEPTH, W_LENGTH = 0.5, 0.25, 0.25


@dataclass(frozen=True)
class ClipPlan:
    """Sample ranges to write, and the indices of those still under ``short`` samples
    (no neighbour could take them without passing the maximum)."""

    bounds: list[tuple[int, int]]
    short: list[int] = field(default_factory=list)


def _box(p: np.ndarray, half: int) -> np.ndarray:
    """Mean of ``p`` over frames [j - half, j + half], the window shrunk at the edges."""
    c = np.concatenate(([0.0], np.cumsum(p)))
    j = np.arange(p.size)
    lo, hi = np.maximum(j - half, 0), np.minimum(j + half + 1, p.size)
    return (c[hi] - c[lo]) / (hi - lo)


def _db(p: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(p, TINY))


def speech_level_db(r: np.ndarray) -> np.ndarray:
    """Per frame: the loud level around it (the larger of its 2-s block's and the
    neighbouring blocks' 90th percentiles), so depths are measured against nearby speech."""
    db = _db(r * r)
    n_blocks = -(-r.size // LEVEL_BLOCK)
    levels = np.array([np.percentile(db[k * LEVEL_BLOCK:(k + 1) * LEVEL_BLOCK], LEVEL_PCT)
                       for k in range(n_blocks)])
    padded = np.concatenate(([-np.inf], levels, [-np.inf]))
    around = np.maximum(np.maximum(padded[:-2], padded[2:]), levels)
    return np.repeat(around, LEVEL_BLOCK)[:r.size]


def local_threshold(r: np.ndarray, threshold: float) -> float:
    """The linear RMS threshold to replay upstream's rules with inside a long clip: the
    global one, raised to the clip's noise floor plus a margin when that floor is higher,
    but kept clearly below the speech."""
    db = _db(r * r)
    floor = float(np.percentile(db, FLOOR_PCT)) + FLOOR_MARGIN_DB
    ceiling = float(np.percentile(db, LEVEL_PCT)) - SPEECH_MARGIN_DB
    return max(threshold, 10 ** (min(floor, ceiling) / 20))


def valleys(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate cut frames (minima of the short-smoothed energy over ±LONG_SCALE frames)
    and their scores in [0, 1]: how far the lowest frame, the short and the long
    neighbourhood fall below the speech level around, as shares of the way down to the
    clip's floor (at most DEPTH_RANGE_DB)."""
    p = r.astype(np.float64) ** 2
    short, long = _db(_box(p, SHORT_SCALE)), _db(_box(p, LONG_SCALE))
    level = speech_level_db(r)
    floor = max(float(np.percentile(short, FLOOR_PCT)), float(level.max()) - DEPTH_RANGE_DB)
    span = np.maximum(level - floor, 1.0)
    depth = np.clip((level - short) / span, 0, 1)
    length = np.clip((level - long) / span, 0, 1)
    bottom = np.clip((level - _db(_box(p, 0))) / span, 0, 1)
    w = 2 * LONG_SCALE + 1  # a minimum must hold over ±LONG_SCALE frames
    padded = np.concatenate((np.full(LONG_SCALE, np.inf), short, np.full(LONG_SCALE, np.inf)))
    is_min = short <= np.lib.stride_tricks.sliding_window_view(padded, w).min(axis=1)
    frames = np.flatnonzero(is_min)
    if frames.size == 0:
        return frames, np.zeros(0)
    # a flat bottom (digital silence) is one valley: keep the middle of each plateau
    breaks = np.flatnonzero(np.diff(frames) > 1)
    first = np.concatenate(([0], breaks + 1))
    last = np.concatenate((breaks, [frames.size - 1]))
    mid = (frames[first] + frames[last]) // 2
    return mid, W_BOTTOM * bottom[mid] + W_DEPTH * depth[mid] + W_LENGTH * length[mid]


def choose_cuts(length: int, pos: np.ndarray, score: np.ndarray, max_len: int,
                min_piece: int) -> list[int] | None:
    """Cut positions (from ``pos``, samples from the clip's start) that split ``length``
    samples into pieces of ``min_piece``..``max_len`` at the least total cost, a cut
    costing CUT_COST minus its score. None when no choice of candidates fits."""
    keep = (pos >= min_piece) & (pos <= length - min_piece)
    pos, score = pos[keep], score[keep]
    nodes = np.concatenate(([0], pos, [length])).astype(np.int64)
    cost = np.concatenate(([0.0], CUT_COST - score, [0.0]))
    lo = np.searchsorted(nodes, nodes - max_len, "left")
    hi = np.searchsorted(nodes, nodes - min_piece, "right")  # predecessors are [lo, hi)
    best = np.full(nodes.size, np.inf)
    back = np.full(nodes.size, -1, dtype=np.int64)
    best[0] = 0.0
    for i in range(1, nodes.size):
        a, b = lo[i], min(hi[i], i)
        if a >= b:
            continue
        j = a + int(np.argmin(best[a:b]))
        if best[j] < np.inf:
            best[i], back[i] = best[j] + cost[i], j
    if best[-1] == np.inf:
        return None
    cuts, i = [], back[-1]
    while i > 0:
        cuts.append(int(nodes[i]))
        i = back[i]
    return cuts[::-1]


def split_at_valleys(start: int, end: int, rms: np.ndarray, hop: int, max_len: int,
                     min_piece: int) -> list[tuple[int, int]]:
    """One over-long range into pieces that fit, cut at the best valleys; falls back to
    the quietest frame in each allowed window when the valleys cannot make the lengths."""
    f0, f1 = -(-start // hop), min(end // hop, rms.shape[0] - 1)
    if f1 - f0 > 2 * LONG_SCALE:
        frames, score = valleys(rms[f0:f1 + 1])
        cuts = choose_cuts(end - start, (frames + f0) * hop - start, score, max_len, min_piece)
        if cuts is not None:
            edges = [start] + [start + c for c in cuts] + [end]
            return list(zip(edges[:-1], edges[1:]))
    return enforce_max_length([(start, end)], rms, hop, max_len, min_piece)


def reslice_locally(start: int, end: int, rms: np.ndarray, grid: FrameGrid, n: int
                    ) -> list[tuple[int, int]]:
    """Upstream's rules inside one clip with the clip's own threshold; the clip itself
    when its floor is below the global threshold (nothing would change)."""
    f0, f1 = start // grid.hop, min(-(-end // grid.hop), rms.shape[0])
    r = rms[f0:f1]
    if r.size <= grid.min_length:
        return [(start, end)]
    thr = local_threshold(r, grid.threshold)
    if thr <= grid.threshold:
        return [(start, end)]
    tags = silence_tags(r, replace(grid, threshold=thr))
    out = []
    for a, b in tags_to_bounds(tags, r.size, grid.hop, min(end, f1 * grid.hop) - f0 * grid.hop):
        a, b = max(a + f0 * grid.hop, start), min(b + f0 * grid.hop, end)
        if b > a:
            out.append((a, b))
    return out or [(start, end)]


def merge_short(bounds: list[tuple[int, int]], max_len: int, short: int) -> ClipPlan:
    """Join each clip under ``short`` samples to the neighbour nearer to it (in samples of
    gap) when the joined clip fits in ``max_len``; list the ones that cannot join."""
    out = list(bounds)
    i = 0
    while i < len(out):
        s, e = out[i]
        if e - s >= short or len(out) == 1:
            i += 1
            continue
        options = []
        if i > 0 and e - out[i - 1][0] <= max_len:
            options.append((s - out[i - 1][1], i - 1))
        if i + 1 < len(out) and out[i + 1][1] - s <= max_len:
            options.append((out[i + 1][0] - e, i + 1))
        if not options:
            i += 1
            continue
        _, j = min(options)
        a, b = min(i, j), max(i, j)
        out[a:b + 1] = [(out[a][0], out[b][1])]
        i = a  # the joined clip may still be short
    return ClipPlan(out, [k for k, (s, e) in enumerate(out) if e - s < short])


def plan_clips(x, sr: int, params: SlicerParams, max_len: int, *,
               rms: np.ndarray | None = None, min_piece: int | None = None,
               short: int | None = None) -> ClipPlan:
    """The slice step's cuts: upstream's slicer, then (when ``max_len`` > 0) every clip
    over ``max_len`` samples re-sliced with a local threshold and split at valleys, then
    short leftovers merged. ``min_piece`` and ``short`` default to one second."""
    grid = FrameGrid.of(params, sr)
    if rms is None:
        rms = frame_rms(x, grid.win, grid.hop)
    bounds = slice_bounds(x, sr, params, rms=rms)
    if max_len <= 0 or rms.size == 0:
        return ClipPlan(bounds)
    min_piece = sr if min_piece is None else min_piece
    min_piece = max(0, min(min_piece, max_len // 4))
    short = sr if short is None else short
    n = int(x.shape[0])
    out: list[tuple[int, int]] = []
    for s, e in bounds:
        if e - s <= max_len:
            out.append((s, e))
            continue
        for a, b in reslice_locally(s, e, rms, grid, n):
            if b - a <= max_len:
                out.append((a, b))
            else:
                out += split_at_valleys(a, b, rms, grid.hop, max_len, min_piece)
    return merge_short(out, max_len, short)
