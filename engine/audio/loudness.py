"""Loudness (ITU-R BS.1770 integrated, streaming) and the peak-range normalisation gain.

The meter keeps only one number per 100 ms of audio, so a 2-hour file costs 72 000 floats.
"""
from __future__ import annotations

import math

import numpy as np

ABS_GATE_LUFS = -70.0
REL_GATE_LU = -10.0


def _high_shelf(sr: float) -> tuple[np.ndarray, np.ndarray]:
    # BS.1770 stage 1 (head effects) in the bilinear form that reproduces the standard's
    # published 48 kHz coefficients at any rate
    gain_db, q, fc = 3.999843853973347, 0.7071752369554196, 1681.974450955533
    k = math.tan(math.pi * fc / sr)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    b = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    a = [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array(b), np.array(a)


def _high_pass(sr: float) -> tuple[np.ndarray, np.ndarray]:
    # BS.1770 stage 2 (RLB weighting); numerator fixed at [1, -2, 1] as in the standard
    q, fc = 0.5003270373238773, 38.13547087602444
    k = math.tan(math.pi * fc / sr)
    a0 = 1 + k / q + k * k
    return np.array([1.0, -2.0, 1.0]), np.array([1.0, 2 * (k * k - 1) / a0,
                                                 (1 - k / q + k * k) / a0])


def k_weighting(sr: float) -> list[tuple[np.ndarray, np.ndarray]]:
    return [_high_shelf(sr), _high_pass(sr)]


class LoudnessMeter:
    """Feed (frames, channels) blocks; read integrated loudness and 100 ms levels at the end."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        from scipy.signal import sosfilt_zi

        self.sr = sample_rate
        stages = k_weighting(sample_rate)
        self._sos = np.array([np.concatenate([b, a]) for b, a in stages])
        zi = sosfilt_zi(self._sos)  # (stages, 2)
        self._zi = np.zeros((channels,) + zi.shape)
        self._sub = max(1, int(round(sample_rate * 0.1)))
        self._carry_k = np.zeros(0)  # K-weighted power not yet making a full 100 ms
        self._carry_raw = np.zeros(0)
        self.k_power: list[np.ndarray] = []  # per 100 ms: K-weighted mean square, summed over channels
        self.raw_power: list[np.ndarray] = []  # per 100 ms: plain mean square, averaged over channels

    def add(self, block: np.ndarray) -> None:
        from scipy.signal import sosfilt

        x = np.asarray(block, dtype=np.float64)
        weighted = np.empty_like(x)
        for ch in range(x.shape[1]):
            weighted[:, ch], self._zi[ch] = sosfilt(self._sos, x[:, ch], zi=self._zi[ch])
        k = np.concatenate([self._carry_k, (weighted ** 2).sum(axis=1)])
        raw = np.concatenate([self._carry_raw, (x ** 2).mean(axis=1)])
        full = (k.shape[0] // self._sub) * self._sub
        if full:
            self.k_power.append(k[:full].reshape(-1, self._sub).mean(axis=1))
            self.raw_power.append(raw[:full].reshape(-1, self._sub).mean(axis=1))
        self._carry_k, self._carry_raw = k[full:], raw[full:]

    def _subblocks(self) -> tuple[np.ndarray, np.ndarray]:
        k = np.concatenate(self.k_power) if self.k_power else np.zeros(0)
        raw = np.concatenate(self.raw_power) if self.raw_power else np.zeros(0)
        if self._carry_k.size:  # the last partial 100 ms counts for silence, not loudness
            raw = np.append(raw, self._carry_raw.mean())
        return k, raw

    def integrated(self) -> float | None:
        """Gated integrated loudness in LUFS; None when under 400 ms or all below −70 LUFS."""
        k, _ = self._subblocks()
        if k.shape[0] < 4:
            return None
        blocks = (k[:-3] + k[1:-2] + k[2:-1] + k[3:]) / 4  # 400 ms, 75 % overlap
        with np.errstate(divide="ignore"):
            lufs = -0.691 + 10 * np.log10(blocks)
        gated = blocks[lufs > ABS_GATE_LUFS]
        if gated.size == 0:
            return None
        rel = -0.691 + 10 * math.log10(gated.mean()) + REL_GATE_LU
        with np.errstate(divide="ignore"):
            final = gated[-0.691 + 10 * np.log10(gated) > rel]
        return float(-0.691 + 10 * math.log10(final.mean())) if final.size else None

    def silence_share(self, threshold_db: float = -40.0) -> float:
        """Share of 100 ms pieces whose plain RMS is below ``threshold_db`` dBFS."""
        _, raw = self._subblocks()
        if raw.size == 0:
            return 1.0
        return float((raw < 10 ** (threshold_db / 10)).mean())


def db(value: float) -> float:
    return 20 * math.log10(value) if value > 0 else float("-inf")


def peak_range_gain_db(peak_dbfs: float, low_db: float = -9.0, high_db: float = -6.0) -> float:
    """The smallest gain that brings a peak into [low, high] dBFS (the tutorials' −9…−6 dB);
    0 when it is already inside, or when the file is digital silence."""
    if not math.isfinite(peak_dbfs):
        return 0.0
    if peak_dbfs > high_db:
        return high_db - peak_dbfs
    if peak_dbfs < low_db:
        return low_db - peak_dbfs
    return 0.0
