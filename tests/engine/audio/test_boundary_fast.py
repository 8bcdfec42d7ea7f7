"""The fast paths of the sentence-boundary model give the answers of the plain ones: the
block-shared autocorrelation equals one FFT correlation per row, cues asked for a few
rows equal those rows of the full matrix, and the sliding-window programme over a
clip's frames picks the cuts of the general one."""
from __future__ import annotations

import numpy as np

from engine.audio import boundary as bd
from engine.audio.slicer import FrameGrid, SlicerParams, frame_rms
from engine.audio.splitpoints import _cuts_free, _cuts_grid

SR = 32000
GRID = FrameGrid.of(SlicerParams(), SR)


def _voice(seconds: float = 12.0) -> np.ndarray:
    """Gliding harmonic tones (100-300 Hz) in bursts, with digital silence and a noise
    floor between them: voiced, unvoiced and silent frames, pitch moving."""
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 180 + 80 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = sum(np.sin(h * phase) / h for h in range(1, 6))
    gate = (np.sin(2 * np.pi * 1.1 * t) > -0.3).astype(float)
    x = x * gate * (0.1 + 0.9 * (t % 3 > 0.5))
    x[int(4 * SR):int(4.3 * SR)] = 0.0  # digital silence
    x += 1e-3 * rng.standard_normal(t.size) * (t > 6)
    return (0.2 * x).astype(np.float32)


def _nccf_exact(y: np.ndarray, starts: np.ndarray, win: int, lmax: int, lag0: int
                ) -> np.ndarray:
    y = y.astype(np.float64)
    out = np.empty((starts.size, lmax + 1 - lag0))
    for r, c in enumerate(starts):
        a = y[c:c + win]
        for lag in range(lag0, lmax + 1):
            b = y[c + lag:c + lag + win]
            out[r, lag - lag0] = a @ b / np.sqrt((a @ a) * (b @ b) + 1e-12)
    return out


def test_block_autocorrelation_equals_direct():
    rng = np.random.default_rng(0)
    y = _voice()[::8].copy()
    y[3000:3400] = 0.0
    win, lmax, lag0, half = 160, 59, 9, 80
    rows = np.sort(rng.choice(np.arange(1, (y.size - win - lmax - 1) // half), 300, replace=False))
    fast = bd._nccf_blocks(y, 7, rows, win, lmax, lag0)
    plain = bd._nccf_direct(y, 7 + rows * half, win, lmax, lag0)
    exact = _nccf_exact(y, 7 + rows * half, win, lmax, lag0)
    assert np.isfinite(fast).all()
    # where both windows carry energy (the part every lag shares), float32 either way
    # agrees with float64
    energy = np.array([float(np.square(y[c + lmax:c + win], dtype=np.float64).sum())
                       for c in 7 + rows * half])
    sounding = energy > 1e-4
    assert sounding.sum() > 150
    assert np.abs(fast - exact)[sounding].max() < 1e-4
    assert np.abs(plain - exact)[sounding].max() < 1e-4
    # near silence both lose digits alike (the 1e-12 guard); the fast path no more
    assert np.abs(fast - exact).max() <= np.abs(plain - exact).max() + 5e-3


def test_pitch_only_where_needed_matches_everywhere():
    x = _voice()
    n = 1000
    full_s, full_v = bd.pitch(x, 5 * GRID.hop, n, GRID.hop, SR)
    need = np.zeros(n, bool)
    need[100:400] = need[617] = need[998:] = True
    s, v = bd.pitch(x, 5 * GRID.hop, n, GRID.hop, SR, need=need)
    assert np.array_equal(s[need], full_s[need]) and np.array_equal(v[need], full_v[need])
    assert (full_v > bd.VOICED).sum() > 300  # the signal is voiced where it sounds
    assert not v[450:600].any()  # nothing measured where nothing was asked


def test_cues_at_some_rows_are_those_rows_of_the_full_matrix():
    x = _voice()
    rms = frame_rms(x, GRID.win, GRID.hop)
    f0, f1 = 20, rms.size - 20
    full = bd.features(x, rms, f0, f1, GRID.hop, SR)
    rows = np.flatnonzero(bd.valleys(rms, f0, f1))
    assert 0 < rows.size < full.shape[0]
    assert np.array_equal(bd.features(x, rms, f0, f1, GRID.hop, SR, rows=rows), full[rows])
    assert np.array_equal(full[:, bd.NAMES.index("bottom")] <= bd.VALLEY_DB,
                          bd.valleys(rms, f0, f1))


def test_grid_programme_equals_general_one():
    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(400):
        step = int(rng.integers(1, 300))
        n = int(rng.integers(5, 300))
        pos = int(rng.integers(0, 400)) + step * np.arange(n)
        length = int(pos[-1] + rng.integers(0, 3 * step + 1))
        max_len = int(rng.integers(step, max(step + 1, length)))
        min_piece = int(rng.integers(0, max_len // 4 + 1))
        cost = rng.exponential(1.0, n).round(int(rng.integers(0, 3)))  # ties as well
        cost[rng.random(n) < rng.random()] = np.inf  # frames that may not be cut
        if length <= max_len:
            continue
        a = _cuts_free(length, pos, cost, max_len, min_piece, 3)
        b = _cuts_grid(length, pos, cost, max_len, min_piece, 3)
        assert (a is None) == (b is None)
        if a is not None:
            checked += 1
            assert abs(a[0] - b[0]) < 1e-9 and a[1] == b[1]
    assert checked > 100


def test_long_window_cues_equal_their_direct_definitions():
    """The masked window means and the declination slopes read from cumulative sums equal
    a plain mean and a least-squares fit over the same frames."""
    rng = np.random.default_rng(5)
    v = rng.standard_normal(900).cumsum() * 0.1
    m = rng.random(900) < 0.6
    at = np.array([0, 3, 150, 451, 899])
    count, mean = bd._Masked(v, m, at)(-150, -1)
    (slope,) = bd._slopes(v, m, at, ((1, 200),))
    for k, j in enumerate(at):
        lo, hi = max(0, j - 150), j
        sel = m[lo:hi]
        assert count[k] == sel.sum()
        assert abs(mean[k] - (v[lo:hi][sel].mean() if sel.any() else 0.0)) < 1e-9
        idx = np.arange(j + 1, min(900, j + 201))
        idx = idx[m[idx]]
        want = np.polyfit(idx / 100.0, v[idx], 1)[0] if idx.size >= 20 else 0.0
        assert abs(slope[k] - want) < 1e-6


def test_placement_cues_find_the_onset_after_a_tail():
    """A decaying tail, then a sharp onset: the onset's own 10 ms is louder than its RMS
    frame says, the frames before it see the rise coming within a few frames."""
    t = np.arange(2 * SR) / SR
    tail = np.exp(-t * 12) * (t < 1.0)
    onset = (t >= 1.0) * 1.0
    x = (0.1 * np.sin(2 * np.pi * 150 * t) * (tail + onset)).astype(np.float32)
    rms = frame_rms(x, GRID.win, GRID.hop)
    f0, f1 = 10, rms.size - 10
    cues = bd.features(x, rms, f0, f1, GRID.hop, SR)
    j = 100 - f0  # the frame centred on the onset
    rise = cues[:, bd.NAMES.index("rise_in")]
    assert rise[j - 5] < rise[j - 25]  # the rise is near for frames just before it
    assert cues[j + 1, bd.NAMES.index("fine")] > cues[j - 3, bd.NAMES.index("fine")]
    assert cues[j - 1, bd.NAMES.index("fine_slope")] > 10
