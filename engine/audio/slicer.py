"""Upstream GPT-SoVITS's RMS silence slicer, vectorised, plus a maximum clip length.

Same decisions as upstream's ``slicer2.Slicer`` (threshold, min_length, min_interval,
hop, max_sil_kept; window = min(min_interval, 4 x hop)), but the RMS is computed in O(n)
from block sums of squares and the state machine walks runs of silent frames instead of
frames, so a 30-minute file costs one pass over the samples and a few thousand Python steps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.events import StepError


@dataclass(frozen=True)
class SlicerParams:
    """Upstream's knobs, in upstream's units."""

    threshold_db: float = -34.0
    min_length_ms: int = 4000
    min_interval_ms: int = 300
    hop_ms: int = 10
    max_sil_kept_ms: int = 500


def check_params(p: SlicerParams) -> None:
    """Upstream's two constraints, phrased for the user."""
    if not p.hop_ms > 0:
        raise StepError(f"hop_ms = {p.hop_ms} must be positive", "Use the default hop of 10 ms.")
    if not p.min_length_ms >= p.min_interval_ms >= p.hop_ms:
        raise StepError(
            "Slicer settings must satisfy min_length ≥ min_interval ≥ hop "
            f"(got {p.min_length_ms} ms, {p.min_interval_ms} ms, {p.hop_ms} ms)",
            "Lower min_interval or hop, or raise min_length (defaults: 4000, 300, 10 ms).")
    if not p.max_sil_kept_ms >= p.hop_ms:
        raise StepError(
            f"Slicer settings must satisfy max_sil_kept ≥ hop "
            f"(got {p.max_sil_kept_ms} ms < {p.hop_ms} ms)",
            "Raise max_sil_kept (default 500 ms) or lower hop (default 10 ms).")


@dataclass(frozen=True)
class FrameGrid:
    """The slicer's parameters converted to samples and frames at one sample rate."""

    hop: int  # samples
    win: int  # samples
    threshold: float  # linear RMS
    min_length: int  # frames
    min_interval: int  # frames
    max_sil_kept: int  # frames

    @classmethod
    def of(cls, p: SlicerParams, sr: int) -> "FrameGrid":
        check_params(p)
        min_interval = sr * p.min_interval_ms / 1000
        hop = round(sr * p.hop_ms / 1000)
        return cls(
            hop=hop,
            win=min(round(min_interval), 4 * hop),
            threshold=10 ** (p.threshold_db / 20.0),
            min_length=round(sr * p.min_length_ms / 1000 / hop),
            min_interval=round(min_interval / hop),
            max_sil_kept=round(sr * p.max_sil_kept_ms / 1000 / hop),
        )


def frame_rms(x, win: int, hop: int) -> np.ndarray:
    """RMS of centred, zero-padded frames (frame j covers x[j*hop - win//2 : +win]).

    One pass over the samples: the energy of every hop-long row (and, when ``win`` is not
    a multiple of ``hop``, of its first ``win % hop`` samples) in float32, in bounded
    chunks; a frame is then the float64 sum of its few rows. No running sum over the
    whole file, whose rounding (~1e-16 of everything before) would swamp a quiet floor
    after long loud audio. ``x`` may be any array-like with ``shape`` and contiguous
    slicing (e.g. a SampleFile).
    """
    if not hasattr(x, "shape"):
        x = np.asarray(x, dtype=np.float32)
    n, pad = x.shape[0], win // 2
    n_frames = 1 + (n + 2 * pad - win) // hop if n + 2 * pad >= win else 0
    if n_frames <= 0:
        return np.zeros(0, dtype=np.float64)
    q, r = divmod(win, hop)  # a frame: rows j .. j+q-1, then r samples of row j+q
    rows = n_frames + q
    full = np.empty(rows, dtype=np.float32)
    part = np.empty(rows, dtype=np.float32) if r else None

    def fill(m0: int, m1: int) -> None:  # rows m0..m1-1; row m covers x[m*hop - pad : +hop]
        lo, hi = m0 * hop - pad, m1 * hop - pad
        a, b = max(lo, 0), min(hi, n)
        if a == lo and b == hi:
            seg = np.asarray(x[a:b], dtype=np.float32)
        else:  # rows that reach into the zero padding
            seg = np.zeros(hi - lo, np.float32)
            if b > a:
                seg[a - lo:b - lo] = np.asarray(x[a:b], dtype=np.float32)
        blocks = seg.reshape(-1, hop)
        full[m0:m1] = np.einsum("ij,ij->i", blocks, blocks)
        if part is not None:
            head = blocks[:, :r]
            part[m0:m1] = np.einsum("ij,ij->i", head, head)

    # the few rows at either end are padded copies; the others are read in place, in
    # chunks of ~1M samples (no full-size temporary)
    inner0 = min(rows, -(-pad // hop))
    inner1 = max(inner0, min(rows, (n + pad) // hop))
    step = max(1, (1 << 20) // hop)
    fill(0, inner0)
    for m0 in range(inner0, inner1, step):
        fill(m0, min(m0 + step, inner1))
    if inner1 < rows:
        fill(inner1, rows)
    sums = full[:n_frames].astype(np.float64)
    for k in range(1, q):
        sums += full[k:k + n_frames]
    if part is not None:
        sums += part[q:q + n_frames]
    return np.sqrt(sums / win)


def silent_runs(rms: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The runs of frames under ``threshold``: their first frames, and the first loud frame
    after each (or the frame count)."""
    silent = rms < threshold
    edges = np.diff(silent.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def silence_tags(rms: np.ndarray, grid: FrameGrid) -> list[tuple[int, int]]:
    """Upstream's (begin, end) frame ranges to remove, found by walking silent runs."""
    total = rms.shape[0]
    run_starts, run_ends = silent_runs(rms, grid.threshold)
    keep, tags, clip_start = grid.max_sil_kept, [], 0
    for s, i in zip(run_starts.tolist(), run_ends.tolist()):
        if i >= total:  # trailing silence, handled after the loop as upstream does
            if total - s >= grid.min_interval:
                end = min(total, s + keep)
                pos = int(rms[s:end + 1].argmin()) + s
                tags.append((pos, total + 1))
            break
        leading = s == 0 and i > keep
        middle = i - s >= grid.min_interval and i - clip_start >= grid.min_length
        if not leading and not middle:
            continue
        if i - s <= keep:
            pos = int(rms[s:i + 1].argmin()) + s
            tags.append((0, pos) if s == 0 else (pos, pos))
            clip_start = pos
        elif i - s <= keep * 2:
            pos = int(rms[i - keep:s + keep + 1].argmin()) + i - keep
            pos_l = int(rms[s:s + keep + 1].argmin()) + s
            pos_r = int(rms[i - keep:i + 1].argmin()) + i - keep
            if s == 0:
                tags.append((0, pos_r))
                clip_start = pos_r
            else:
                tags.append((min(pos_l, pos), max(pos_r, pos)))
                clip_start = max(pos_r, pos)
        else:
            pos_l = int(rms[s:s + keep + 1].argmin()) + s
            pos_r = int(rms[i - keep:i + 1].argmin()) + i - keep
            tags.append((0, pos_r) if s == 0 else (pos_l, pos_r))
            clip_start = pos_r
    return tags


def slice_bounds(x: np.ndarray, sr: int, params: SlicerParams = SlicerParams(),
                 rms: np.ndarray | None = None) -> list[tuple[int, int]]:
    """The (start, end) sample ranges upstream's slicer keeps, ends clipped to the audio."""
    grid = FrameGrid.of(params, sr)
    n = int(x.shape[0])
    if n == 0:
        return []
    if n <= grid.min_length:  # upstream compares samples with frames here; kept as is
        return [(0, n)]
    if rms is None:
        rms = frame_rms(x, grid.win, grid.hop)
    return tags_to_bounds(silence_tags(rms, grid), rms.shape[0], grid.hop, n)


def tags_to_bounds(tags: list[tuple[int, int]], total: int, hop: int, n: int
                   ) -> list[tuple[int, int]]:
    """The sample ranges between upstream's removal tags (frames), clipped to ``n``."""
    if not tags:
        frames = [(0, total)]
    else:
        frames = []
        if tags[0][0] > 0:
            frames.append((0, tags[0][0]))
        frames += [(tags[k][1], tags[k + 1][0]) for k in range(len(tags) - 1)]
        if tags[-1][1] < total:
            frames.append((tags[-1][1], total))
    out = []
    for a, b in frames:
        s, e = min(a * hop, n), min(b * hop, n)
        if e > s:
            out.append((s, e))
    return out


def enforce_max_length(bounds: list[tuple[int, int]], rms: np.ndarray, hop: int,
                       max_len: int, min_piece: int) -> list[tuple[int, int]]:
    """Split every range longer than ``max_len`` samples at its quietest RMS frames.

    Each cut is searched only where the left piece fits and the rest still fits in the
    remaining number of pieces, and no piece is shorter than ``min_piece`` samples.
    """
    if max_len <= 0:
        return list(bounds)
    min_piece = max(0, min(min_piece, max_len // 4))
    out: list[tuple[int, int]] = []
    for start, end in bounds:
        while end - start > max_len:
            length = end - start
            pieces = -(-length // max_len)
            lo = start + max(min_piece, length - (pieces - 1) * max_len)
            hi = start + min(max_len, length - min_piece)
            f_lo, f_hi = -(-lo // hop), min(hi // hop, rms.shape[0] - 1)
            if f_lo <= f_hi:
                cut = (int(rms[f_lo:f_hi + 1].argmin()) + f_lo) * hop
            else:  # the allowed range falls between two frames
                cut = hi
            out.append((start, cut))
            start = cut
        out.append((start, end))
    return out


def peak_mix(chunk: np.ndarray, max_peak: float = 0.9, alpha: float = 0.25) -> np.ndarray:
    """Upstream's output level: alpha of a peak-normalised copy plus (1 - alpha) of the chunk.

    Upstream divides twice when the peak exceeds 1 and yields NaN on digital silence; here
    an over-range chunk is scaled to peak 1 once, and silence stays silence.
    """
    chunk = np.asarray(chunk, dtype=np.float32)
    peak = float(np.abs(chunk).max()) if chunk.size else 0.0
    if peak == 0.0:
        return chunk.copy()
    if peak > 1.0:
        chunk, peak = chunk / peak, 1.0
    return (chunk / peak * (max_peak * alpha) + (1.0 - alpha) * chunk).astype(np.float32)
