"""How likely each 10 ms frame of a long clip is to sit between two sentences.

Inside a run of sentences spoken 0–60 ms apart, the gap between two sentences and a stop
closure inside a word look alike in energy. Prosody tells them apart: a sentence ends
with its pitch falling to the bottom of the speaker's range and the next one starts low
and climbs to its top (declination reset); the energy decays before the end and rises
after. These cues are measured per frame with numpy only (the pitch from a normalised
autocorrelation on a coarsely decimated copy of the clip) and combined by a small
logistic model whose weights come from bench/fit_boundary.py (fitted on benchmark draws
that the reported table does not score).
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

NAMES = ("depth", "over_floor", "len3", "len6", "len10", "pre", "post", "decay", "onset",
         "fall_in", "rise_out", "unv_before", "unv_after", "f_before", "f_after", "reset",
         "abs_reset", "fall", "rise", "has_f0", "bottom", "low_end", "low_start", "big_rise",
         "top_reset", "level_step", "abs_level_step")


def pitch(x: np.ndarray, start: int, n_frames: int, hop: int, sr: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Per frame (frame k centred at ``start + k*hop``): pitch in semitones (12 log2 Hz)
    and the normalised autocorrelation peak (voicing strength), computed every second
    frame on a block-averaged copy of the samples (the averaging keeps periodicity; its
    aliasing only adds noise to unvoiced frames)."""
    dec = max(1, sr // PITCH_RATE)
    fs = sr / dec
    win = int(round(F0_WIN_S * fs))
    lmin, lmax = int(fs / F0_MAX), int(np.ceil(fs / F0_MIN)) + 1
    lo = max(0, start - (win // 2 + lmax) * dec)
    hi = min(int(x.shape[0]), start + n_frames * hop + (win // 2 + lmax) * dec)
    y = np.asarray(x[lo:hi], dtype=np.float32)
    y = y[: y.size // dec * dec].reshape(-1, dec).mean(1)
    y = y - uniform_filter1d(y, max(2, int(fs / 250)))  # drop DC and rumble, keep the period
    step = PITCH_STEP
    ks = np.arange(0, n_frames, step)
    c = ((start + ks * hop - lo) / dec).astype(np.int64) - win // 2
    c = np.clip(c, 0, max(0, y.size - win - lmax - 1))
    if y.size < win + lmax + 1:
        return np.zeros(n_frames), np.zeros(n_frames)
    seg = y[c[:, None] + np.arange(win + lmax)]
    nfft = 1 << int(np.ceil(np.log2(win + lmax + 1)))  # no lag <= lmax wraps around
    r = np.fft.irfft(np.conj(np.fft.rfft(seg[:, :win], nfft)) * np.fft.rfft(seg, nfft),
                     nfft)[:, :lmax + 1]
    sq = np.concatenate([np.zeros((seg.shape[0], 1), np.float32), np.cumsum(seg * seg, 1)], 1)
    lags = np.arange(lmax + 1)
    e_lag = sq[:, lags + win] - sq[:, lags]
    nccf = r / np.sqrt(sq[:, win:win + 1] * e_lag + 1e-12)
    sub = nccf[:, lmin:lmax]
    k = sub.argmax(1) + lmin
    rows = np.arange(seg.shape[0])
    a, b, cc = nccf[rows, k - 1], nccf[rows, k], nccf[rows, np.minimum(k + 1, lmax)]
    den = a - 2 * b + cc
    frac = np.where(np.abs(den) > 1e-9, 0.5 * (a - cc) / np.where(den == 0, 1, den), 0.0)
    lag = k + np.clip(frac, -0.5, 0.5)
    semis = 12 * np.log2(fs / lag)
    strength = np.clip(b, 0, 1)
    return (np.repeat(semis, step)[:n_frames], np.repeat(strength, step)[:n_frames])


def _run_length(mask: np.ndarray) -> np.ndarray:
    """For each frame, the length of the run of True frames containing it (0 if False)."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = np.zeros(mask.size)
    lengths = ends - starts
    idx = np.repeat(np.arange(starts.size), lengths)
    out[np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]) if starts.size
        else np.zeros(0, np.int64)] = lengths[idx]
    return out


def _last_index(mask: np.ndarray) -> np.ndarray:
    """For each frame j, the index of the last True frame before j (-10**6 if none)."""
    idx = np.where(mask, np.arange(mask.size), -10 ** 6)
    prev = np.maximum.accumulate(idx)
    return np.concatenate(([-10 ** 6], prev[:-1]))


def _max_range(v: np.ndarray, a: int, b: int) -> np.ndarray:
    """Max of v over frames [j+a, j+b] for every j (clamped to the clip)."""
    size = b - a + 1 + ((b - a) % 2)  # odd, centred on j + (a+b)//2
    m = maximum_filter1d(v, size, mode="nearest")
    return m[np.clip(np.arange(v.size) + (a + b) // 2, 0, v.size - 1)]


def _mean_range(v: np.ndarray, a: int, b: int) -> np.ndarray:
    """Mean of v over frames [j+a, j+b] for every j (clamped to the clip)."""
    c = np.concatenate(([0.0], np.cumsum(v)))
    j = np.arange(v.size)
    lo = np.clip(j + a, 0, v.size - 1)
    hi = np.clip(j + b + 1, lo + 1, v.size)
    return (c[hi] - c[lo]) / (hi - lo)


def features(x: np.ndarray, rms: np.ndarray, f0: int, f1: int, hop: int, sr: int
             ) -> np.ndarray:
    """The cue matrix (frames f0..f1-1 of ``rms``, one row per frame, columns NAMES)."""
    r = rms[f0:f1].astype(np.float64)
    n = r.size
    d = 10 * np.log10(np.maximum(r * r, TINY))
    d = np.maximum(d, d.max() - 90.0)  # digital silence: 90 dB under the peak, not -200
    level = float(np.percentile(d, 90))
    sm = uniform_filter1d(d, 3, mode="nearest")
    floor = minimum_filter1d(sm, 2 * FLOOR_HALF + 1, mode="nearest")
    cols = {"depth": level - d, "over_floor": d - floor}
    for t in (3, 6, 10):
        cols[f"len{t}"] = np.log1p(_run_length(d <= floor + t))
    cols["pre"] = _mean_range(d, -20, -3) - level
    cols["post"] = _mean_range(d, 3, 20) - level
    cols["decay"] = _mean_range(d, -15, -3) - _mean_range(d, -45, -16)
    cols["onset"] = _mean_range(d, 3, 15) - _mean_range(d, 16, 45)
    cols["fall_in"] = _mean_range(d, -4, -1) - d
    cols["rise_out"] = _mean_range(d, 1, 4) - d

    semis, strength = pitch(x, f0 * hop, n, hop, sr)
    voiced = (strength > VOICED) & (d > floor + 10)
    j = np.arange(n)
    last = _last_index(voiced)
    nxt = n - 1 - _last_index(voiced[::-1])[::-1]  # first voiced frame after j
    unv_b = np.minimum(j - last, REACH)
    unv_a = np.minimum(nxt - j, REACH)
    # the voiced frames' pitch, median-filtered along the voiced frames (an isolated octave
    # jump at an onset or offset is dropped), relative to the clip's median
    rv = semis[voiced]
    if rv.size >= 2 * NEAR + 1:
        rv = median_filter(rv, 2 * NEAR + 1, mode="nearest")
        rv = rv - float(np.median(rv))
    else:
        rv = np.zeros(0)
    cn = np.concatenate(([0], np.cumsum(voiced)))  # voiced frames in [0, j)
    c_b, c_a = cn[j], cn[np.minimum(j + 1, n)]
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
    top_b = _max_range(top, -SPAN, -1)
    top_a = _max_range(top, 1, SPAN)
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
    cols["bottom"] = d - minimum_filter1d(d, 11, mode="nearest")
    cols["low_end"] = np.maximum(0.0, -f_b - 2.0) * have_b
    cols["low_start"] = np.maximum(0.0, -f_a - 1.0) * have_a
    cols["big_rise"] = np.maximum(0.0, cols["rise"] - 3.0)
    # a new sentence climbs above where the last one ended (the top of the pitch over the
    # next second against the previous second), and is often spoken louder or softer
    cols["top_reset"] = np.where((top_a > -60) & (top_b > -60), top_a - top_b, 0.0)
    loud = uniform_filter1d(d, 9, mode="nearest")
    cols["level_step"] = _max_range(loud, 1, SPAN) - _max_range(loud, -SPAN, -1)
    cols["abs_level_step"] = np.abs(cols["level_step"])
    return np.stack([cols[k] for k in NAMES], 1)


def log_odds(cues: np.ndarray) -> np.ndarray:
    """The model's log-odds that each frame lies between two sentences (columns NAMES)."""
    mean, scale, layers = _model()
    h = (cues - mean) / scale
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return h[:, 0]


@functools.lru_cache(maxsize=1)
def _model():
    """The weights as arrays, converted once."""
    from engine.audio import boundary_weights as m

    if tuple(m.NAMES) != NAMES:
        raise RuntimeError("engine/audio/boundary_weights.py was fitted on other cues: "
                           "re-run bench/fit_boundary.py --write")
    return (np.asarray(m.MEAN), np.asarray(m.SCALE),
            [(np.asarray(w), np.asarray(b)) for w, b in zip(m.WEIGHTS, m.BIASES)])
