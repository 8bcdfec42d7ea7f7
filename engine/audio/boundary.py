"""How likely each 10 ms frame of a long clip is to sit between two sentences.

Inside a run of sentences spoken 0–60 ms apart, the gap between two sentences and a stop
closure inside a word look alike in energy. Prosody tells them apart: a sentence ends
with its pitch falling to the bottom of the speaker's range and the next one starts low
and climbs to its top (declination reset); the energy decays before the end and rises
after. Over 0.5-2 s the pitch and level averages, the declination slope and the
syllable rate say the same where lexical tones hide the last frames' pitch (Mandarin);
inside a valley, the 10 ms energy and the distance to the next rise place the cut at the
next sentence's onset, which reverberation hides from the quietest frame. These cues are
measured per frame with numpy only (the pitch from a normalised autocorrelation on a
coarsely decimated copy of the clip) and combined by a small ReLU network whose weights
come from bench/fit_boundary.py (boundary_weights.py's header says what it was fitted on).
"""
from __future__ import annotations

import functools

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter, minimum_filter1d, uniform_filter1d

PITCH_RATE = 4000  # Hz: 32 kHz is block-averaged 8:1; pitch (70–400 Hz) survives, cost drops
PITCH_STEP = 2  # the pitch is measured every this many frames and held in between
F0_WIN_S = 0.04  # autocorrelation window
F0_MIN, F0_MAX = 70.0, 400.0
VOICED = 0.55  # normalised autocorrelation peak above which a frame counts as voiced
REACH = 50  # frames (0.5 s) searched for the last voiced frame before / first after
SPAN = 100  # frames (1 s) over which the pitch's top before / after is taken
FLOOR_HALF = 150  # frames (±1.5 s) of the local floor
TINY = 1e-20
VALLEY_DB = 3.0  # a frame within this of the quietest of its ±5 frames may be cut at
NEAR = 3  # voiced frames averaged on each side of a frame for its pitch before / after
BLOCK_ROWS = 256  # rows per product in log_odds

NAMES = ("depth", "over_floor", "len3", "len6", "len10", "pre", "post", "decay", "onset",
         "fall_in", "rise_out", "unv_before", "unv_after", "f_before", "f_after", "reset",
         "abs_reset", "fall", "rise", "has_f0", "bottom", "low_end", "low_start", "big_rise",
         "top_reset", "level_step", "abs_level_step",
         # long-window prosody (tones average out over half a second and more)
         "p_before", "p_after", "p_step", "p_step_long", "slope_before", "slope_after",
         "l_step", "l_step_long", "syl_before", "syl_after", "vrun_before", "vrun_after",
         # placement inside a valley: the onset of the next sentence, not the quietest frame
         "fine", "fine_slope", "to_min", "rise_in", "fall_since")


def _decimate(y: np.ndarray, dec: int) -> np.ndarray:
    """Block means of ``dec`` samples. For 8 the sum is spelled out in the order numpy's
    pairwise reduction adds eight numbers (the same result), over chunks that stay in
    cache: a quarter of the time of ``mean(1)``, whose reduction over a short axis is slow."""
    v = y[: y.size // dec * dec].reshape(-1, dec)
    if dec != 8:
        return v.mean(1)
    out = np.empty(v.shape[0], np.float32)
    for s in range(0, v.shape[0], 1 << 15):
        c = [v[s:s + (1 << 15), i] for i in range(8)]
        out[s:s + (1 << 15)] = (((c[0] + c[1]) + (c[2] + c[3]))
                                + ((c[4] + c[5]) + (c[6] + c[7]))) / np.float32(8)
    return out


def _nccf_direct(y: np.ndarray, c: np.ndarray, win: int, lmax: int, lag0: int
                 ) -> np.ndarray:
    """Normalised cross-correlation of y[c:c+win] with y[c+lag:c+lag+win], lags
    lag0..lmax, one row per start in ``c`` (one FFT correlation per row)."""
    seg = y[c[:, None] + np.arange(win + lmax)]
    nfft = 1 << int(np.ceil(np.log2(win + lmax + 1)))  # no lag <= lmax wraps around
    r = np.fft.irfft(np.conj(np.fft.rfft(seg[:, :win], nfft)) * np.fft.rfft(seg, nfft),
                     nfft)[:, lag0:lmax + 1]
    sq = np.concatenate([np.zeros((seg.shape[0], 1), np.float32), np.cumsum(seg * seg, 1)], 1)
    lags = np.arange(lag0, lmax + 1)
    return r / np.sqrt(sq[:, win:win + 1] * (sq[:, lags + win] - sq[:, lags]) + 1e-12)


def _nccf_blocks(y: np.ndarray, c0: int, rows: np.ndarray, win: int, lmax: int, lag0: int
                 ) -> np.ndarray:
    """The same for starts ``c0 + rows * win/2``, sharing work between overlapping rows.
    A window is two half-window blocks, so its correlation is the sum of two blocks'
    correlations with the samples that follow, each a product of FFTs of single blocks
    (the next block, shifted by half the FFT length, only flips the sign of odd bins):
    one FFT per block and one inverse per row, of length win, instead of three of
    2*win per row. The energies likewise: two blocks' sums, less the samples the lag
    skips at the front, plus those it reaches at the back (float32 sums within blocks,
    as precise as the per-row sums)."""
    from scipy import fft

    half = win // 2
    j0, j1 = int(rows.min()), int(rows.max()) + 3  # blocks j0 .. j1-1 feed these rows
    z = np.zeros((j1 - j0) * half, np.float32)  # past the end: zeros, read only by lags > lmax
    part = y[c0 + j0 * half: c0 + j1 * half]
    z[:part.size] = part
    blocks = z.reshape(-1, half)
    a = fft.rfft(blocks, 2 * half, axis=1, workers=1)
    sign = np.where(np.arange(a.shape[1]) % 2, -1.0, 1.0).astype(np.float32)
    # spectrum of block j's correlation with blocks j, j+1 (the segment it reaches)
    q = (a[:-1].real ** 2 + a[:-1].imag ** 2) + sign * (np.conj(a[:-1]) * a[1:])
    k = rows - j0
    r = fft.irfft(q[k] + q[k + 1], 2 * half, axis=1, workers=1)[:, lag0:lmax + 1]
    sq = blocks * blocks
    total = sq.sum(1)
    head = np.zeros((sq.shape[0], lmax + 1), np.float32)  # head[j, l]: first l samples
    head[:, 1:] = np.cumsum(sq[:, :lmax].T, axis=0).T
    e0 = total[k] + total[k + 1]
    el = np.maximum(e0[:, None] - head[k, lag0:] + head[k + 2, lag0:], 0)  # no -0 from rounding
    return r / np.sqrt(e0[:, None] * el + np.float32(1e-12))


def pitch(x: np.ndarray, start: int, n_frames: int, hop: int, sr: int,
          need: np.ndarray | None = None, gain: float = 1.0, step: int = PITCH_STEP
          ) -> tuple[np.ndarray, np.ndarray]:
    """Per frame (frame k centred at ``start + k*hop``): pitch in semitones (12 log2 Hz)
    and the normalised autocorrelation peak (voicing strength), computed every second
    frame on a block-averaged copy of the samples (the averaging keeps periodicity; its
    aliasing only adds noise to unvoiced frames). With ``need`` (a mask over the frames)
    only the frames it marks are measured; the others read 0. ``gain`` scales the samples
    (after the block averaging: no full-rate copy), which moves the voicing of faint frames
    (the energy floor is absolute). ``step``: measure every this many frames instead."""
    dec = max(1, sr // PITCH_RATE)
    fs = sr / dec
    win = int(round(F0_WIN_S * fs))
    lmin, lmax = int(fs / F0_MAX), int(np.ceil(fs / F0_MIN)) + 1
    lo = max(0, start - (win // 2 + lmax) * dec)
    hi = min(int(x.shape[0]), start + n_frames * hop + (win // 2 + lmax) * dec)
    y = _decimate(np.asarray(x[lo:hi], dtype=np.float32), dec)
    if gain != 1.0:
        y = y * np.float32(gain)
    y = y - uniform_filter1d(y, max(2, int(fs / 250)))  # drop DC and rumble, keep the period
    out_s, out_v = np.zeros(n_frames), np.zeros(n_frames)
    if y.size < win + lmax + 1:
        return out_s, out_v
    ks = np.arange(0, n_frames, step)
    if need is not None:
        use = need[ks].copy()
        use[: need[1::step].size] |= need[1::step][: ks.size]
        ks = ks[use]
        if not ks.size:
            return out_s, out_v
    c = ((start + ks * hop - lo) / dec).astype(np.int64) - win // 2
    cmax = max(0, y.size - win - lmax - 1)
    lag0 = lmin - 1  # the peak is searched in lmin..lmax-1 and read with its neighbours
    nccf = np.empty((ks.size, lmax + 1 - lag0), np.float32)
    stride = step * hop / dec
    inner = (c >= 0) & (c <= cmax)
    if win % 2 == 0 and stride == win // 2 and inner.sum() > 1:
        c0 = int(c[inner][0]) - int(ks[inner][0]) // step * (win // 2)
        nccf[inner] = _nccf_blocks(y, c0, ks[inner] // step, win, lmax, lag0)
    else:
        inner[:] = False
    if (~inner).any():
        nccf[~inner] = _nccf_direct(y, np.clip(c[~inner], 0, cmax), win, lmax, lag0)
    k = nccf[:, 1:lmax - lag0].argmax(1) + 1  # column of the peak (lag k + lag0)
    rows = np.arange(nccf.shape[0])
    a, b, cc = nccf[rows, k - 1], nccf[rows, k], nccf[rows, k + 1]
    den = a - 2 * b + cc
    frac = np.where(np.abs(den) > 1e-9, 0.5 * (a - cc) / np.where(den == 0, 1, den), 0.0)
    lag = k + lag0 + np.clip(frac, -0.5, 0.5)
    for off in range(step):
        f = ks + off
        ok = f < n_frames
        out_s[f[ok]] = 12 * np.log2(fs / lag[ok])
        out_v[f[ok]] = np.clip(b[ok], 0, 1)
    return out_s, out_v


def _run_length(mask: np.ndarray) -> np.ndarray:
    """For each frame, the length of the run of True frames containing it (0 if False)."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    run = np.cumsum(edges[:-1] == 1) - 1  # index of the run a frame belongs to
    return np.where(mask, lengths[np.maximum(run, 0)] if lengths.size else 0, 0).astype(float)


def _last_index(mask: np.ndarray) -> np.ndarray:
    """For each frame j, the index of the last True frame before j (-10**6 if none)."""
    idx = np.where(mask, np.arange(mask.size), -10 ** 6)
    prev = np.maximum.accumulate(idx)
    return np.concatenate(([-10 ** 6], prev[:-1]))


def _max_range(v: np.ndarray, a: int, b: int, at: np.ndarray) -> np.ndarray:
    """Max of v over frames [j+a, j+b] for every j in ``at`` (clamped to the clip)."""
    size = b - a + 1 + ((b - a) % 2)  # odd, centred on j + (a+b)//2
    m = maximum_filter1d(v, size, mode="nearest")
    return m[np.clip(at + (a + b) // 2, 0, v.size - 1)]


class _Means:
    """Means of v over frames [j+a, j+b] (clamped to the clip) from one cumulative sum."""

    def __init__(self, v: np.ndarray, at: np.ndarray):
        self.c, self.n, self.at = np.concatenate(([0.0], np.cumsum(v))), v.size, at

    def __call__(self, a: int, b: int) -> np.ndarray:
        lo = np.clip(self.at + a, 0, self.n - 1)
        hi = np.clip(self.at + b + 1, lo + 1, self.n)
        return (self.c[hi] - self.c[lo]) / (hi - lo)


def _levels(rms: np.ndarray, f0: int, f1: int) -> np.ndarray:
    """Frames f0..f1-1 in dB, digital silence raised to 90 dB under the peak (not -200)."""
    r = rms[f0:f1].astype(np.float64)
    d = 10 * np.log10(np.maximum(r * r, TINY))
    return np.maximum(d, d.max() - 90.0)


def valleys(rms: np.ndarray, f0: int, f1: int) -> np.ndarray:
    """Mask over frames f0..f1-1: near the bottom of their valley, where a cut may go
    (the cue "bottom" at most VALLEY_DB; the model was fitted on these frames only)."""
    d = _levels(rms, f0, f1)
    return d - minimum_filter1d(d, 11, mode="nearest") <= VALLEY_DB


def features(x: np.ndarray, rms: np.ndarray, f0: int, f1: int, hop: int, sr: int,
             rows: np.ndarray | None = None) -> np.ndarray:
    """The cue matrix (frames f0..f1-1 of ``rms``, one row per frame, columns NAMES);
    with ``rows`` (indices into those frames) only these rows. A frame's cues do not
    depend on which rows are asked for (the pitch and the floors are taken over all)."""
    d = _levels(rms, f0, f1)
    n = d.size
    at = np.arange(n) if rows is None else np.asarray(rows, np.int64)
    da = d[at]
    level = float(np.percentile(d, 90))
    sm = uniform_filter1d(d, 3, mode="nearest")
    floor = minimum_filter1d(sm, 2 * FLOOR_HALF + 1, mode="nearest")
    cols = {"depth": level - da, "over_floor": da - floor[at]}
    for t in (3, 6, 10):
        cols[f"len{t}"] = np.log1p(_run_length(d <= floor + t)[at])
    mean = _Means(d, at)
    cols["pre"] = mean(-20, -3) - level
    cols["post"] = mean(3, 20) - level
    cols["decay"] = mean(-15, -3) - mean(-45, -16)
    cols["onset"] = mean(3, 15) - mean(16, 45)
    cols["fall_in"] = mean(-4, -1) - da
    cols["rise_out"] = mean(1, 4) - da

    loud = d > floor + 10  # only such frames may count as voiced: the pitch elsewhere is unused
    semis, strength = pitch(x, f0 * hop, n, hop, sr, need=loud)
    voiced = (strength > VOICED) & loud
    last = _last_index(voiced)[at]
    nxt = n - 1 - _last_index(voiced[::-1])[::-1][at]  # first voiced frame after j
    unv_b = np.minimum(at - last, REACH)
    unv_a = np.minimum(nxt - at, REACH)
    # the voiced frames' pitch, median-filtered along the voiced frames (an isolated octave
    # jump at an onset or offset is dropped), relative to the clip's median
    rv = semis[voiced]
    if rv.size >= 2 * NEAR + 1:
        rv = median_filter(rv, 2 * NEAR + 1, mode="nearest")
        rv = rv - float(np.median(rv))
    else:
        rv = np.zeros(0)
    cn = np.concatenate(([0], np.cumsum(voiced)))  # voiced frames in [0, j)
    c_b, c_a = cn[at], cn[np.minimum(at + 1, n)]
    have_b = (unv_b < REACH) & (c_b >= NEAR) & (rv.size > 0)
    have_a = (unv_a < REACH) & (rv.size - c_a >= NEAR) & (rv.size > 0)
    crv = np.concatenate(([0.0], np.cumsum(rv)))
    f_b = np.where(have_b, (crv[np.minimum(c_b, rv.size)]
                            - crv[np.clip(c_b - NEAR, 0, rv.size)]) / NEAR, 0.0)
    f_a = np.where(have_a, (crv[np.minimum(c_a + NEAR, rv.size)]
                            - crv[np.minimum(c_a, rv.size)]) / NEAR, 0.0)
    top = np.full(n, -60.0)
    if rv.size:
        top[voiced] = rv
    top_b = _max_range(top, -SPAN, -1, at)
    top_a = _max_range(top, 1, SPAN, at)
    both = have_b & have_a
    cols["unv_before"] = unv_b / REACH
    cols["unv_after"] = unv_a / REACH
    cols["f_before"] = f_b
    cols["f_after"] = f_a
    cols["reset"] = np.where(both, f_a - f_b, 0.0)
    cols["abs_reset"] = np.abs(cols["reset"])
    cols["fall"] = np.where(have_b & (top_b > -60), f_b - top_b, 0.0)
    cols["rise"] = np.where(have_a & (top_a > -60), top_a - f_a, 0.0)
    cols["has_f0"] = both.astype(np.float64)
    # hinges: a sentence ends near the bottom of the range and the next starts low and climbs
    cols["bottom"] = da - minimum_filter1d(d, 11, mode="nearest")[at]
    cols["low_end"] = np.maximum(0.0, -f_b - 2.0) * have_b
    cols["low_start"] = np.maximum(0.0, -f_a - 1.0) * have_a
    cols["big_rise"] = np.maximum(0.0, cols["rise"] - 3.0)
    # a new sentence climbs above where the last one ended (the top of the pitch over the
    # next second against the previous second), and is often spoken louder or softer
    cols["top_reset"] = np.where((top_a > -60) & (top_b > -60), top_a - top_b, 0.0)
    smooth = uniform_filter1d(d, 9, mode="nearest")
    cols["level_step"] = _max_range(smooth, 1, SPAN, at) - _max_range(smooth, -SPAN, -1, at)
    cols["abs_level_step"] = np.abs(cols["level_step"])
    _long_cues(cols, d, floor, voiced, rv, at)
    _placement_cues(cols, x, d, f0, hop, at)
    return np.stack([cols[k] for k in NAMES], 1)


class _Masked:
    """Over frames [j+a, j+b] where ``m`` holds: their count and the mean of ``v`` there
    (0 if none), from one pair of cumulative sums."""

    def __init__(self, v: np.ndarray, m: np.ndarray, at: np.ndarray):
        self.cm = np.concatenate(([0.0], np.cumsum(m)))
        self.cv = np.concatenate(([0.0], np.cumsum(np.where(m, v, 0.0))))
        self.at, self.n = at, v.size

    def __call__(self, a: int, b: int):
        lo, hi = np.clip(self.at + a, 0, self.n), np.clip(self.at + b + 1, 0, self.n)
        k = self.cm[hi] - self.cm[lo]
        return k, np.where(k > 0, (self.cv[hi] - self.cv[lo]) / np.maximum(k, 1), 0.0)


def _slopes(v: np.ndarray, m: np.ndarray, at: np.ndarray, spans) -> list[np.ndarray]:
    """Least-squares slopes (units per second) of ``v`` over the frames of [j+a, j+b]
    where ``m`` holds, one array per (a, b) in ``spans``: the declination across the
    stretch, whatever the tones do."""
    t = np.arange(v.size) / 100.0
    sums = [np.concatenate(([0.0], np.cumsum(np.where(m, q, 0.0))))
            for q in (np.ones_like(v), t, t * t, v, t * v)]
    out = []
    for a, b in spans:
        lo, hi = np.clip(at + a, 0, v.size), np.clip(at + b + 1, 0, v.size)
        n, st, stt, sv, stv = (c[hi] - c[lo] for c in sums)
        den = n * stt - st * st
        ok = (n >= 20) & (den > 1e-9)
        out.append(np.where(ok, (n * stv - st * sv) / np.where(ok, den, 1.0), 0.0))
    return out


def _long_cues(cols: dict, d: np.ndarray, floor: np.ndarray, voiced: np.ndarray,
               rv: np.ndarray, at: np.ndarray) -> None:
    """Pitch and level averaged over 0.5 and 1.5 s either side (a sentence starts high and
    loud and ends low and soft, whatever its tones), the declination slope over the 2 s
    either side, the syllable rate (envelope peaks) and the last / first voiced stretch
    (final lengthening)."""
    pf = np.zeros(d.size)
    if rv.size:
        pf[voiced] = rv
    vm = voiced if rv.size else np.zeros(d.size, bool)
    pm = _Masked(pf, vm, at)
    (nb, pb), (na, pa), (nb2, pb2), (na2, pa2) = pm(-50, -1), pm(1, 50), pm(-150, -1), pm(1, 150)
    cols["p_before"], cols["p_after"] = pb, pa
    cols["p_step"] = np.where((nb >= 5) & (na >= 5), pa - pb, 0.0)
    cols["p_step_long"] = np.where((nb2 >= 15) & (na2 >= 15), pa2 - pb2, 0.0)
    cols["slope_before"], cols["slope_after"] = _slopes(pf, vm, at, ((-200, -1), (1, 200)))
    lm = _Masked(d, d > floor + 10, at)
    cols["l_step"] = lm(1, 50)[1] - lm(-50, -1)[1]
    cols["l_step_long"] = lm(1, 150)[1] - lm(-150, -1)[1]
    sm = uniform_filter1d(d, 5, mode="nearest")
    peak = _Masked(d, (sm >= maximum_filter1d(sm, 9, mode="nearest")) & (sm > floor + 15), at)
    cols["syl_before"], cols["syl_after"] = peak(-100, -1)[0], peak(1, 100)[0]
    run = np.minimum(_run_length(voiced), 60.0) / 60.0
    last = np.maximum(_last_index(voiced)[at], 0)
    nxt = np.minimum(d.size - 1 - _last_index(voiced[::-1])[::-1][at], d.size - 1)
    cols["vrun_before"] = np.where(at - last < REACH, run[last], 0.0)
    cols["vrun_after"] = np.where(nxt - at < REACH, run[nxt], 0.0)


def _placement_cues(cols: dict, x: np.ndarray, d: np.ndarray, f0: int, hop: int,
                    at: np.ndarray) -> None:
    """Where inside its valley a frame sits: the energy of its own 10 ms (the RMS frames
    span 40 ms) and its slope, the way to the valley's quietest frame, and how far the
    next rise / the last fall of 10 dB are. Under reverberation the tail of one sentence
    fills the gap, so the quietest frame lies inside the next sentence's soft onset."""
    n = d.size
    lo = f0 * hop - hop // 2
    seg = np.zeros((n + 6) * hop, np.float32)  # 3 frames of margin either side
    a, b = max(0, lo - 3 * hop), min(int(x.shape[0]), lo + (n + 3) * hop)
    seg[a - (lo - 3 * hop): b - (lo - 3 * hop)] = x[a:b]
    blk = seg.reshape(-1, hop)
    e = np.einsum("ij,ij->i", blk, blk).astype(np.float64) / hop  # float32 sums of 320
    fine = np.maximum(10 * np.log10(np.maximum(e, TINY)), d.max() - 90.0)  # frame j at 3 + j
    cols["fine"] = fine[at + 3] - d[at]
    cols["fine_slope"] = (fine[at + 4] + fine[at + 5]) / 2 - (fine[at + 1] + fine[at + 2]) / 2
    win = np.clip(at[:, None] + np.arange(-8, 9), 0, n - 1)
    cols["to_min"] = np.argmin(d[win], 1) - 8.0
    up = d[at] + 10.0
    win = np.clip(at[:, None] + np.arange(1, 31), 0, n - 1)
    above = d[win] > up[:, None]
    cols["rise_in"] = np.where(above.any(1), above.argmax(1) + 1, 31) / 31.0
    win = np.clip(at[:, None] - np.arange(1, 31), 0, n - 1)
    above = d[win] > up[:, None]
    cols["fall_since"] = np.where(above.any(1), above.argmax(1) + 1, 31) / 31.0


def log_odds(cues: np.ndarray) -> np.ndarray:
    """The model's log-odds that each frame lies between two sentences (columns NAMES)."""
    mean, scale, layers = _model()
    out = np.empty(cues.shape[0])
    # in blocks small enough that BLAS stays on one thread: on a busy machine its worker
    # threads cost 5-20x the product itself (measured) and keep spinning afterwards
    for s in range(0, cues.shape[0], BLOCK_ROWS):
        h = (cues[s:s + BLOCK_ROWS] - mean) / scale
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if i < len(layers) - 1:
                h = np.maximum(h, 0.0)
        out[s:s + BLOCK_ROWS] = h[:, 0]
    return out


@functools.lru_cache(maxsize=1)
def _model():
    """The weights as arrays, converted once."""
    from engine.audio import boundary_weights as m

    if tuple(m.NAMES) != NAMES:
        raise RuntimeError("engine/audio/boundary_weights.py was fitted on other cues: "
                           "re-run bench/fit_boundary.py --write")
    return (np.asarray(m.MEAN), np.asarray(m.SCALE),
            [(np.asarray(w), np.asarray(b)) for w, b in zip(m.WEIGHTS, m.BIASES)])
