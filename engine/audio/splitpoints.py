"""Where a clip longer than the maximum is cut: between sentences, not inside them.

Upstream's slicer only cuts at silences below a fixed threshold, so a run of sentences
spoken 0–60 ms apart (or any speech over a noise floor above the threshold) comes out as
one long clip. Such a clip is handled in two passes:

1. a local threshold (the clip's own noise floor plus a margin) replays upstream's rules
   inside it, so a noisy recording is still cut at its pauses;
2. what is still too long is cut where the sentence-boundary model (default: the conv
   net of engine/audio/boundary_net.py over log-mel bands, level and pitch) is surest,
   into pieces between ``min_piece`` and the maximum, their number free (up to
   EXTRA_PIECES more than the fewest); without the samples (energy only), with the fewest
   pieces: at the quietest frame of each allowed window (the rule this module grew from),
   unless a dynamic programme over every frame, scored by how quiet the frame and its
   neighbourhood are and how long the pause, finds cuts clearly better in total.
   On the benchmark (bench/slice_benchmark.py) the quietest frame is hard to beat on
   clean audio, where gaps between sentences reach digital silence, so the programme
   only overrides it with a margin.

Finally, leftovers under a second are merged with a neighbour they touch where the
maximum allows.
Everything but the boundary model works on the RMS frames upstream's slicer computes
anyway (10 ms hops); the model reads the samples of over-long clips only (the previous,
feature-based model only at valley frames first: see split_at_boundaries).
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

import numpy as np

from engine.audio.slicer import (FrameGrid, SlicerParams, enforce_max_length, frame_rms,
                                 silence_tags, silent_runs, slice_bounds, tags_to_bounds)

FLOOR_PCT = 2.0  # percentile of the clip's frames taken as its noise floor
FLOOR_MARGIN_DB = 6.0  # the local threshold sits this far above the floor ...
SPEECH_MARGIN_DB = 10.0  # ... and at least this far below the speech level
LEVEL_PCT = 90.0  # percentile of the clip's frames taken as its speech level
SHORT_SCALE = 2  # half-width, in frames, of the short smoothing (depth)
LONG_SCALE = 4  # half-width, in frames, of the long smoothing (length)
TINY = 1e-20  # power floor for dB: keeps digital silence (-200 dB) below any real frame
# A frame's score mixes how quiet the frame itself is, its ±2 frames (depth), its ±4
# frames (length) and its ±20 frames (a long pause), each as a log-rank among the clip's
# frames, plus how many of its ±4 frames sit at the clip's floor. Ranks, not dB, so the
# same weights hold on a clean recording (whose quietest frames are digital silence,
# 100 dB under the speech) and on one with a noise floor 10 dB under it.
W_BOTTOM, W_DEPTH, W_LENGTH, W_PAUSE, W_FLOOR = 2.0, 0.25, 0.25, 1.0, 0.5
PAUSE_SCALE = 20  # half-width, in frames, of the pause smoothing
FLOOR_TOL_DB = 3.0  # a frame this close to the clip's quietest one is "at the floor" ...
FLOOR_FRAMES = 3  # ... and this many such frames around a cut give the full floor term
GAMMA = 3.0  # a cut's value is score**GAMMA: one sure gap outweighs two middling dips
# The quietest frame (the rule this replaced) is a strong guess on clean audio; its cuts
# are replaced by the programme's only when those are worth MARGIN more in total.
# Measured on the benchmark (seeds 0-5, 126 recordings): MARGIN 0.2..0.5 keeps every
# recording at least as good as the quietest frame (the programme then overrides it on
# 6 of 502 clips); 0 (always the programme) makes 9 recordings worse.
MARGIN = 0.3
# With the samples at hand the forced cuts follow the sentence-boundary model instead:
EXTRA_PIECES = 3  # up to this many pieces more than the fewest, when that avoids a doubtful cut
OFF_VALLEY = 20.0  # extra cost (nats) of a cut off a valley's bottom: only when nothing else fits
LOCAL_BACK = 8  # frames: a cut in a noisy pause sits this far before the speech after it
MAX_WORKERS = 8  # threads that run the boundary model on forced ranges at once
PITCH_SPAN = 50  # frames: a range shorter than twice this is cut on energy alone


# A sentence-boundary model: (x, rms, f0, f1, hop, sr, rows) -> the log-odds that each
# frame f0..f1-1 (or only those at ``rows``, indices into them) lies between sentences.
BoundaryScorer = Callable[..., np.ndarray]


def feature_scorer(x, rms: np.ndarray, f0: int, f1: int, hop: int, sr: int,
                   rows: Optional[np.ndarray] = None) -> np.ndarray:
    """The previous model: prosodic and energy cues (engine/audio/boundary.py), kept as the
    benchmark's comparison (slice_benchmark --scorer engine.audio.splitpoints:feature_scorer)."""
    from engine.audio.boundary import features, log_odds

    return log_odds(features(x, rms, f0, f1, hop, sr, rows=rows))


def default_scorer() -> BoundaryScorer:
    """The slice step's model: the learned conv net (engine/audio/boundary_net.py)."""
    from engine.audio.boundary_net import scorer

    return scorer


def prefetched(scorer: BoundaryScorer, x, rms: np.ndarray, hop: int, sr: int,
               ranges: list[tuple[int, int]], workers: int | None = None) -> BoundaryScorer:
    """``scorer`` with its answers for the whole of each range (as split_at_boundaries
    asks) worked out beforehand, several ranges at once in threads: numpy and scipy
    release the GIL in the model's big array operations, so a clip per core, each matmul
    on one BLAS thread (BLAS's own threads on top of ours spin for cores they do not get:
    1.7x the wall time with the previous nets, 22 min of audio on 2 cores). Other
    questions go to ``scorer`` itself."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    from engine.audio.heap import hold_freed_memory

    hold_freed_memory()  # each clip's arrays reuse the last one's pages (engine/audio/heap.py)
    keys = [k for k in (_asked_frames(s, e, hop, rms) for s, e in ranges) if k is not None]
    workers = min(len(keys), workers or os.cpu_count() or 1, MAX_WORKERS)
    if workers < 2:
        return scorer
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        answers = dict(zip(keys, pool.map(lambda k: scorer(x, rms, k[0], k[1], hop, sr), keys)))

    def ask(x_, rms_, f0, f1, hop_, sr_, rows=None):
        z = answers.get((f0, f1)) if x_ is x and hop_ == hop and sr_ == sr else None
        if z is None:
            return scorer(x_, rms_, f0, f1, hop_, sr_, rows=rows)
        return z if rows is None else z[rows]

    return functools.update_wrapper(ask, scorer)  # with the attributes the planner reads


def _asked_frames(start: int, end: int, hop: int, rms: np.ndarray) -> tuple[int, int] | None:
    """The frames f0..f1-1 that split_at_boundaries asks the scorer about for one range;
    None when the range is too short to measure."""
    f0, f1 = -(-start // hop), min(end // hop, rms.shape[0] - 1)
    return (f0, f1 + 1) if f1 - f0 > 2 * PITCH_SPAN else None


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


def _log_rank(x: np.ndarray) -> np.ndarray:
    """1 for the smallest value, falling with the log of its rank to ~0 for the largest
    (ties share the better rank): the extreme tail, where gaps live, stays spread out."""
    rank = np.searchsorted(np.sort(x), x, "left") + 1.0
    return 1.0 - np.log(rank) / np.log(x.size + 1.0)


def local_threshold(r: np.ndarray, threshold: float) -> float:
    """The linear RMS threshold to replay upstream's rules with inside a long clip: the
    global one, raised to the clip's noise floor plus a margin when that floor is higher,
    but kept clearly below the speech."""
    db = 10.0 * np.log10(np.maximum(r * r, 1e-10))
    floor = float(np.percentile(db, FLOOR_PCT)) + FLOOR_MARGIN_DB
    ceiling = float(np.percentile(db, LEVEL_PCT)) - SPEECH_MARGIN_DB
    return max(threshold, 10 ** (min(floor, ceiling) / 20))


def frame_scores(r: np.ndarray) -> np.ndarray:
    """Every frame's score in [0, 1] as a place to cut (see the weights above)."""
    p = r.astype(np.float64) ** 2
    raw = _db(p)
    at_floor = (raw <= raw.min() + FLOOR_TOL_DB).astype(np.float64)
    floor = np.minimum(_box(at_floor, LONG_SCALE) * (2 * LONG_SCALE + 1) / FLOOR_FRAMES, 1.0)
    mix = (W_BOTTOM * _log_rank(raw) + W_DEPTH * _log_rank(_db(_box(p, SHORT_SCALE)))
           + W_LENGTH * _log_rank(_db(_box(p, LONG_SCALE))) + W_FLOOR * floor
           + W_PAUSE * _log_rank(_db(_box(p, PAUSE_SCALE))))
    return mix / (W_BOTTOM + W_DEPTH + W_LENGTH + W_FLOOR + W_PAUSE)


def _range_argmin(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """For each query, the index of the smallest ``v`` in [lo, hi) (hi > lo), from a
    sparse table: O(n log n) numpy work instead of one Python step per query."""
    table = [np.arange(v.size)]
    width = 1
    while 2 * width <= v.size:
        prev = table[-1]
        a, b = prev[:-width], prev[width:]
        table.append(np.where(v[b] < v[a], b, a))
        width *= 2
    span = hi - lo
    level = np.floor(np.log2(np.maximum(span, 1))).astype(np.int64)
    out = np.empty(lo.size, dtype=np.int64)
    for k in np.unique(level):
        q = level == k
        a = table[k][lo[q]]
        b = table[k][hi[q] - (1 << k)]
        out[q] = np.where(v[b] < v[a], b, a)
    return out


def _best_cuts(length: int, pos: np.ndarray, cost: np.ndarray, max_len: int,
               min_piece: int, pieces: int) -> tuple[float, list[int]] | None:
    """The cheapest ``pieces - 1`` cuts among ``pos`` (sorted) giving pieces of
    ``min_piece``..``max_len`` samples, and their total cost; None when none fit."""
    lo = np.searchsorted(pos, pos - max_len, "left")  # predecessors j in [lo, hi)
    hi = np.minimum(np.searchsorted(pos, pos - min_piece, "right"), np.arange(pos.size))
    ok = hi > lo
    best = np.where((pos >= min_piece) & (pos <= max_len), cost, np.inf)
    backs = []
    for _ in range(pieces - 2):
        j = np.zeros(pos.size, dtype=np.int64)
        j[ok] = _range_argmin(best, lo[ok], hi[ok])
        new = np.where(ok, best[j] + cost, np.inf)
        backs.append(j)
        best = new
    last = (pos >= length - max_len) & (pos <= length - min_piece)
    if not last.any() or not np.isfinite(best[last]).any():
        return None
    i = int(np.flatnonzero(last)[np.argmin(best[last])])
    total, cuts = float(best[i]), [i]
    for j in reversed(backs):
        i = int(j[i])
        cuts.append(i)
    return total, [int(pos[k]) for k in reversed(cuts)]


def cut_value(score: np.ndarray) -> np.ndarray:
    return np.clip(score, 0.0, 1.0) ** GAMMA


def choose_cuts(length: int, pos: np.ndarray, score: np.ndarray, max_len: int,
                min_piece: int) -> list[int] | None:
    """Cut positions (from ``pos``, samples from the clip's start, scores in [0, 1]) that
    split ``length`` samples into pieces of ``min_piece``..``max_len``: the fewest pieces
    the candidates allow, then the highest total value. None when no choice fits."""
    order = np.argsort(pos, kind="stable")
    pos, score = np.asarray(pos, np.int64)[order], np.asarray(score, np.float64)[order]
    if length <= max_len:
        return []
    cost = 1.0 - cut_value(score)
    n0 = -(-length // max_len)
    found = None
    for pieces in range(n0, n0 + 3):
        if pos.size < pieces - 1 or pieces * min_piece > length:
            break
        found = _best_cuts(length, pos, cost, max_len, min_piece, pieces)
        if found is not None:
            break
    return None if found is None else found[1]


def _cuts_free(length: int, pos: np.ndarray, cost: np.ndarray, max_len: int,
               min_piece: int, extra: int) -> tuple[float, list[int]] | None:
    """choose_cuts_free's answer with its total cost. The cheapest way to reach each
    position with k cuts does not depend on how many pieces follow, so one pass of the
    programme serves every number of pieces."""
    n0 = -(-length // max_len)
    lo = np.searchsorted(pos, pos - max_len, "left")  # predecessors j in [lo, hi)
    hi = np.minimum(np.searchsorted(pos, pos - min_piece, "right"), np.arange(pos.size))
    ok = hi > lo
    last = (pos >= length - max_len) & (pos <= length - min_piece)
    best = np.where((pos >= min_piece) & (pos <= max_len), cost, np.inf)
    backs: list[np.ndarray] = []
    found = None
    for pieces in range(n0, n0 + extra + 1):
        if pos.size < pieces - 1 or pieces * min_piece > length:
            break
        while len(backs) < pieces - 2:  # best: the cheapest first len(backs)+1 cuts
            j = np.zeros(pos.size, dtype=np.int64)
            j[ok] = _range_argmin(best, lo[ok], hi[ok])
            best = np.where(ok, best[j] + cost, np.inf)
            backs.append(j)
        if pieces < 2 or not last.any() or not np.isfinite(best[last]).any():
            continue
        i = int(np.flatnonzero(last)[np.argmin(best[last])])
        total, cuts = float(best[i]), [i]
        for j in reversed(backs):
            i = int(j[i])
            cuts.append(i)
        if found is None or total < found[0] - 1e-9:
            found = (total, [int(pos[k]) for k in reversed(cuts)])
    return found


def _cuts_grid(length: int, pos: np.ndarray, cost: np.ndarray, max_len: int,
               min_piece: int, extra: int) -> tuple[float, list[int]] | None:
    """_cuts_free for positions ``pos[0] + k * step`` (every frame of a clip; a frame that
    may not be cut costs inf): a predecessor then lies a fixed number of frames back, so
    each step of the programme is one sliding-window minimum (O(n), in C), and only the
    chosen path is traced back. Same answer as _cuts_free, ties to the earlier frame."""
    from scipy.ndimage import minimum_filter1d

    n0 = -(-length // max_len)
    step = int(pos[1] - pos[0])
    near = max(1, -(-min_piece // step))  # predecessor i of j: near <= j - i <= far
    far = max_len // step
    width = far - near + 1
    last = (pos >= length - max_len) & (pos <= length - min_piece)
    if width <= 0 or not last.any():
        return None
    levels = [np.where((pos >= min_piece) & (pos <= max_len), cost, np.inf)]
    pad = np.full(far, np.inf)
    found = None
    for pieces in range(n0, n0 + extra + 1):
        if pieces * min_piece > length:
            break
        while len(levels) < pieces - 1:  # levels[k]: the cheapest first k+1 cuts
            window = minimum_filter1d(np.concatenate((pad, levels[-1])), width, mode="constant",
                                      cval=np.inf, origin=-(width // 2))[:pos.size]
            levels.append(window + cost)
        best = levels[pieces - 2]
        if not np.isfinite(best[last]).any():
            continue
        i = int(np.flatnonzero(last)[np.argmin(best[last])])
        total, cuts = float(best[i]), [i]
        for prev in reversed(levels[:pieces - 2]):
            lo = max(0, i - far)
            i = lo + int(np.argmin(prev[lo:i - near + 1]))
            cuts.append(i)
        if found is None or total < found[0] - 1e-9:
            found = (total, [int(pos[k]) for k in reversed(cuts)])
    return found


def choose_cuts_free(length: int, pos: np.ndarray, cost: np.ndarray, max_len: int,
                     min_piece: int, extra: int = EXTRA_PIECES) -> list[int] | None:
    """Cuts (from ``pos``, sorted) giving pieces of ``min_piece``..``max_len`` with the
    lowest total ``cost``, the number of pieces free from the fewest possible to
    ``extra`` more: a further cut costs its own price, so it is taken only where it lets
    every cut sit somewhere cheap. None when no choice fits."""
    if length <= max_len:
        return []
    found = _cuts_free(length, np.asarray(pos, np.int64), np.asarray(cost, np.float64),
                       max_len, min_piece, extra)
    return None if found is None else found[1]


def split_at_boundaries(start: int, end: int, x, rms: np.ndarray, hop: int, sr: int,
                        max_len: int, min_piece: int, scorer: BoundaryScorer | None = None
                        ) -> list[tuple[int, int]] | None:
    """One over-long range cut where the sentence-boundary model is surest: each cut
    costs -log p(between sentences), so the programme maximises the chance that every
    cut is right; frames off a valley's bottom cost the scorer's ``off_valley`` price
    (default OFF_VALLEY) more. A scorer marked ``all_frames`` (the net: one pass gives
    every frame) is asked once. Another is asked about the valley frames first: when the
    best cuts among them cost less than the off-valley price in all, no choice with an
    off-valley frame can beat them (every cost is positive), so the other frames are
    measured only when that fails.
    None when the range is too short to measure or no choice fits."""
    from engine.audio.boundary import valleys

    scorer = scorer or default_scorer()
    asked = _asked_frames(start, end, hop, rms)
    if asked is None:
        return None
    if end - start <= max_len:
        return [(start, end)]
    f0, f1 = asked[0], asked[1] - 1
    frames = np.arange(f0, f1 + 1)
    pos = frames * hop - start
    low = valleys(rms, f0, f1 + 1)
    rows = np.flatnonzero(low)
    off = getattr(scorer, "off_valley", OFF_VALLEY)
    if getattr(scorer, "all_frames", False):
        # one answer for every frame costs the model what the valley rows cost: one
        # programme with the off-valley price gives the two-stage answer below
        z = scorer(x, rms, f0, f1 + 1, hop, sr)
        found = _cuts_grid(end - start, pos, np.logaddexp(0.0, -z) + np.where(low, 0.0, off),
                           max_len, min_piece, EXTRA_PIECES)
    else:
        cost = np.full(pos.size, np.inf)
        cost[rows] = np.logaddexp(0.0, -scorer(x, rms, f0, f1 + 1, hop, sr, rows=rows))
        found = _cuts_grid(end - start, pos, cost, max_len, min_piece, EXTRA_PIECES)
        if found is None or found[0] >= off:
            z = scorer(x, rms, f0, f1 + 1, hop, sr)
            found = _cuts_grid(end - start, pos, np.logaddexp(0.0, -z)
                               + np.where(low, 0.0, off), max_len, min_piece, EXTRA_PIECES)
    if found is None:
        return None
    edges = [start] + [start + c for c in found[1]] + [end]
    return list(zip(edges[:-1], edges[1:]))


def split_at_valleys(start: int, end: int, rms: np.ndarray, hop: int, max_len: int,
                     min_piece: int, x=None, sr: int | None = None,
                     scorer: BoundaryScorer | None = None) -> list[tuple[int, int]]:
    """One over-long range into pieces that fit. With the samples (``x``, ``sr``): where
    the sentence-boundary model is surest (split_at_boundaries). Energy only: where the
    frames score best, the previous rule's cuts (quietest frame of each allowed window)
    unless these are worth MARGIN more; and whenever no choice of frames can make the
    lengths."""
    old = enforce_max_length([(start, end)], rms, hop, max_len, min_piece)
    if x is not None and sr is not None:
        return (split_at_boundaries(start, end, x, rms, hop, sr, max_len, min_piece, scorer)
                or old)
    f0, f1 = -(-start // hop), min(end // hop, rms.shape[0] - 1)
    if f1 - f0 <= 2 * LONG_SCALE:
        return old
    score = frame_scores(rms[f0:f1 + 1])
    frames = np.arange(f0, f1 + 1)
    cuts = choose_cuts(end - start, frames * hop - start, score, max_len, min_piece)
    if cuts is None:
        return old

    def worth(cs: list[int]) -> float:
        idx = np.clip(np.array(cs, dtype=np.int64) // hop - f0, 0, score.size - 1)
        return float(cut_value(score[idx]).sum())

    old_cuts = [e for _, e in old[:-1]]
    if len(cuts) != len(old_cuts) or worth([start + c for c in cuts]) < worth(old_cuts) + MARGIN:
        return old
    edges = [start] + [start + c for c in cuts] + [end]
    return list(zip(edges[:-1], edges[1:]))


def place_in_noisy_pauses(tags: list[tuple[int, int]], r: np.ndarray, grid: FrameGrid
                          ) -> list[tuple[int, int]]:
    """Upstream's tags (its rules chose which silent runs are cuts) with the cuts moved for
    a floor above the global threshold: there the faint end of a sentence (a decaying
    vowel, a final fricative or release, often after a stop closure that is the run's
    quietest frame) lies inside the run, so upstream's "quietest frame" cuts it off, while
    a sentence starts sharply where the run ends. A run of up to twice max_sil_kept is
    cut once, LOCAL_BACK frames before the speech after it; a longer one keeps
    max_sil_kept on each side (upstream drops the middle too); the file's first and last
    runs keep max_sil_kept next to the speech."""
    starts, ends = silent_runs(r, grid.threshold)
    keep, total, out = grid.max_sil_kept, r.size, []
    for a, b in tags:
        k = int(np.searchsorted(starts, a, "right")) - 1
        s, i = int(starts[k]), int(ends[k])
        if b > total:  # trailing run
            out.append((min(total, s + keep), b))
        elif a == 0 and s == 0:  # leading run
            out.append((0, max(0, i - keep)))
        elif i - s <= 2 * keep:
            pos = i - min(LOCAL_BACK, (i - s) // 2)
            out.append((pos, pos))
        else:
            out.append((s + keep, i - keep))
    return out


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
    local = replace(grid, threshold=thr)
    tags = place_in_noisy_pauses(silence_tags(r, local), r, local)
    out = []
    for a, b in tags_to_bounds(tags, r.size, grid.hop, min(end, f1 * grid.hop) - f0 * grid.hop):
        a, b = max(a + f0 * grid.hop, start), min(b + f0 * grid.hop, end)
        if b > a:
            out.append((a, b))
    if len(out) == 1:
        # trimming only the clip's ends would pack its pieces tighter (it may then need
        # one cut fewer, forced into the middle of sentences): keep it whole
        return [(start, end)]
    return out or [(start, end)]


def merge_short(bounds: list[tuple[int, int]], max_len: int, short: int,
                max_gap: int | None = None) -> ClipPlan:
    """Join each clip under ``short`` samples to the neighbour nearer to it (in samples of
    gap) when the joined clip fits in ``max_len`` and the gap is at most ``max_gap`` (any
    when None); list the ones that cannot join."""
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
        if max_gap is not None:
            options = [o for o in options if o[0] <= max_gap]
        if not options:
            i += 1
            continue
        _, j = min(options)
        a, b = min(i, j), max(i, j)
        out[a:b + 1] = [(out[a][0], out[b][1])]
        i = a  # the joined clip may still be short
    return ClipPlan(out, [k for k, (s, e) in enumerate(out) if e - s < short])


def _first_pass(x, grid: FrameGrid, bounds: list[tuple[int, int]], rms: np.ndarray,
                max_len: int):
    """Upstream's clips, those over the maximum re-sliced with the local threshold; each
    range paired with whether it must still be force-cut."""
    n = int(x.shape[0])
    for s, e in bounds:
        if e - s <= max_len:
            yield (s, e), False
            continue
        for a, b in reslice_locally(s, e, rms, grid, n):
            yield (a, b), b - a > max_len


def long_clips(x, sr: int, params: SlicerParams, max_len: int, rms: np.ndarray
               ) -> list[tuple[int, int]]:
    """The ranges that the plan must force-cut (what bench/fit_boundary_net.py and
    bench/fit_boundary.py fit their models on)."""
    grid = FrameGrid.of(params, sr)
    return [r for r, forced in _first_pass(x, grid, slice_bounds(x, sr, params, rms=rms), rms,
                                           max_len) if forced]


def plan_clips(x, sr: int, params: SlicerParams, max_len: int, *,
               rms: np.ndarray | None = None, min_piece: int | None = None,
               short: int | None = None, scorer: BoundaryScorer | None = None) -> ClipPlan:
    """The slice step's cuts: upstream's slicer, then (when ``max_len`` > 0) every clip
    over ``max_len`` samples re-sliced with a local threshold and split at valleys, then
    short leftovers merged. ``min_piece`` and ``short`` default to one second; ``scorer``
    is the sentence-boundary model (default: default_scorer())."""
    grid = FrameGrid.of(params, sr)
    if rms is None:
        rms = frame_rms(x, grid.win, grid.hop)
    bounds = slice_bounds(x, sr, params, rms=rms)
    if max_len <= 0 or rms.size == 0:
        return ClipPlan(bounds)
    min_piece = sr if min_piece is None else min_piece
    min_piece = max(0, min(min_piece, max_len // 4))
    short = sr if short is None else short
    passes = list(_first_pass(x, grid, bounds, rms, max_len))
    scorer = scorer or default_scorer()
    if getattr(scorer, "all_frames", False):  # the whole of every forced range is asked
        scorer = prefetched(scorer, x, rms, grid.hop, sr, [r for r, forced in passes if forced])
    out: list[tuple[int, int]] = []
    for (a, b), forced in passes:
        out += (split_at_valleys(a, b, rms, grid.hop, max_len, min_piece, x=x, sr=sr,
                                 scorer=scorer) if forced else [(a, b)])
    # only clips that touch are joined: across a gap the join would bring back a silence
    # upstream's rules removed (the short clip is listed instead)
    return merge_short(out, max_len, short, max_gap=grid.hop)
