"""The multi-band spectrogram VR models see, and its way back to a wave.

Our re-implementation of UVR's layout (spec_utils there): the top band is the 44.1 kHz
stereo input, each lower band is resampled from the band above; each band's STFT (centred,
periodic Hann) is cropped and the crops are stacked into ``bins + 1`` rows, the last few
rows attenuated (pre-filter). Back: each band's rows go back into a full spectrogram of its
FFT size, filtered with UVR's linear low/high-pass ramps, inverted, summed with the bands
below and resampled up. The rows above the top band's crop ("high end") are kept from the
input and, as UVR's "mirroring", capped by a mirror image of the estimate below them.

Resampling between band rates is polyphase (scipy's resample_poly; UVR's "polyphase"
res_type, and integer ratios for the 4-band layouts). Our STFT pads by reflection, as
torch and older librosa did.
"""
from __future__ import annotations

from math import gcd

import numpy as np

from engine.audio.separation.vr_params import VrParams
from engine.audio.stft import hann, stft


def istft(spec: np.ndarray, n_fft: int, hop: int, length: int) -> np.ndarray:
    """Inverse of engine.audio.stft.stft for any hop (UVR's 512/160 band is not a whole
    ratio): windowed overlap-add over groups of frames that do not overlap, normalised by
    the summed window²."""
    win = hann(n_fft).astype(np.float64)
    frames = np.fft.irfft(spec.swapaxes(-1, -2), n=n_fft, axis=-1) * win
    count = frames.shape[-2]
    q = -(-n_fft // hop)  # frames k, k+q, k+2q… never overlap
    total = n_fft + hop * (count - 1) + q * hop
    out = np.zeros(frames.shape[:-2] + (total,))
    norm = np.zeros(total)
    for k in range(min(q, count)):
        sel = frames[..., k::q, :]
        m = sel.shape[-2]
        padded = np.zeros(sel.shape[:-1] + (q * hop,))
        padded[..., :n_fft] = sel
        a = k * hop
        out[..., a:a + m * q * hop] += padded.reshape(sel.shape[:-2] + (m * q * hop,))
        wsq = np.zeros(q * hop)
        wsq[:n_fft] = win ** 2
        norm[a:a + m * q * hop] += np.tile(wsq, m)
    pad = n_fft // 2
    out, norm = out[..., pad:pad + length], norm[pad:pad + length]
    return (out / np.where(norm > 1e-8, norm, 1.0)).astype(np.float32)


def resample(x: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    if sr_from == sr_to:
        return x
    from scipy.signal import resample_poly

    g = gcd(sr_from, sr_to)
    return resample_poly(x, sr_to // g, sr_from // g, axis=-1).astype(np.float32)


def _encode_channels(w: np.ndarray, p: VrParams) -> np.ndarray:
    if p.reverse:
        return w[:, ::-1].copy()
    if p.mid_side:
        return np.stack([(w[0] + w[1]) / 2, w[0] - w[1]])
    if p.mid_side_b2:
        return np.stack([w[1] + w[0] * 0.5, w[0] - w[1] * 0.5])
    return w


def _decode_channels(w: np.ndarray, p: VrParams) -> np.ndarray:
    if p.reverse:
        return w[:, ::-1].copy()
    if p.mid_side:
        return np.stack([w[0] + w[1] / 2, w[0] - w[1] / 2])
    if p.mid_side_b2:
        return np.stack([w[1] / 1.25 + 0.4 * w[0], w[0] / 1.25 - 0.4 * w[1]])
    return w


def high_end_rows(p: VrParams) -> int:
    top = p.bands[-1]
    return (top.n_fft // 2 - top.crop_stop) + (p.pre_filter_stop - p.pre_filter_start)


def analyse(wave: np.ndarray, p: VrParams) -> tuple[np.ndarray, np.ndarray]:
    """(2, n) float32 at ``p.sr`` → (combined spectrogram (2, bins+1, frames) complex64,
    the top band's high-end rows for :func:`synthesise`)."""
    specs: list[np.ndarray] = [None] * len(p.bands)  # type: ignore[list-item]
    w, sr = wave.astype(np.float32, copy=False), p.sr
    for i in range(len(p.bands) - 1, -1, -1):
        b = p.bands[i]
        w = resample(w, sr, b.sr)
        sr = b.sr
        specs[i] = stft(_encode_channels(w, p), b.n_fft, b.hl).astype(np.complex64)
    top = p.bands[-1]
    h = high_end_rows(p)
    high = specs[-1][:, top.n_fft // 2 - h:top.n_fft // 2, :].copy()
    frames = min(s.shape[2] for s in specs)
    out = np.zeros((2, p.bins + 1, frames), np.complex64)
    row = 0
    for b, s in zip(p.bands, specs):
        n = b.crop_stop - b.crop_start
        out[:, row:row + n] = s[:, b.crop_start:b.crop_stop, :frames]
        row += n
    if p.pre_filter_start > 0:
        if len(p.bands) == 1:
            lowpass(out, p.pre_filter_start, p.pre_filter_stop)
        else:  # UVR's gentle roll-off over the last rows of a multi-band layout
            prev = 1.0
            for r in range(p.pre_filter_start + 1, p.pre_filter_stop):
                g = 10 ** (-(r - p.pre_filter_start) * (3.5 - prev) / 20.0)
                prev = g
                out[:, r] *= g
    return out, high[:, :, :frames]


def lowpass(spec: np.ndarray, start: int, stop: int) -> np.ndarray:
    """In place: rows start..stop-1 ramp down linearly, rows from ``stop`` are zeroed."""
    n = stop - start
    if n > 0:
        spec[:, start:stop] *= (1.0 - np.arange(1, n + 1) / n)[None, :, None]
    spec[:, max(stop, 0):] = 0
    return spec


def highpass(spec: np.ndarray, start: int, stop: int) -> np.ndarray:
    """In place: rows start down to stop+1 ramp down linearly, rows 0..stop are zeroed."""
    n = start - stop
    if n > 0:
        rows = np.arange(start, stop, -1)
        spec[:, rows] *= (1.0 - np.arange(1, n + 1) / n)[None, :, None]
    spec[:, 0:stop + 1] = 0
    return spec


def mirror_high_end(spec_m: np.ndarray, high: np.ndarray, p: VrParams) -> np.ndarray:
    """UVR's "mirroring": the input's high end, never louder than the estimate's rows just
    below the pre-filter, flipped (so a removed part stays removed up there too)."""
    h = high.shape[1]
    a = p.pre_filter_start - 10
    frames = min(spec_m.shape[2], high.shape[2])
    mirror = np.abs(spec_m[:, a - h:a, :frames])[:, ::-1]
    high = high[:, :, :frames]
    mirror = mirror * np.exp(1j * np.angle(high))
    return np.where(np.abs(high) <= np.abs(mirror), high, mirror)


def synthesise(spec_m: np.ndarray, p: VrParams, high: np.ndarray | None = None) -> np.ndarray:
    """Combined spectrogram → (2, samples) float32 at ``p.sr``."""
    frames = spec_m.shape[2]
    wave: np.ndarray | None = None
    row = 0
    last = len(p.bands) - 1
    for i, b in enumerate(p.bands):
        s = np.zeros((2, b.n_fft // 2 + 1, frames), np.complex64)
        n = b.crop_stop - b.crop_start
        s[:, b.crop_start:b.crop_stop] = spec_m[:, row:row + n]
        row += n
        if i == last:
            if high is not None and high.shape[1]:
                top = b.n_fft // 2
                s[:, top - high.shape[1]:top, :high.shape[2]] = high[:, :, :frames]
            if b.hpf_start > 0:
                highpass(s, b.hpf_start, b.hpf_stop - 1)
        elif i == 0:
            lowpass(s, b.lpf_start, b.lpf_stop)
        else:
            highpass(s, b.hpf_start, b.hpf_stop - 1)
            lowpass(s, b.lpf_start, b.lpf_stop)
        part = _decode_channels(istft(s, b.n_fft, b.hl, (frames - 1) * b.hl), p)
        if wave is not None:
            m = min(wave.shape[1], part.shape[1])
            part = part[:, :m] + wave[:, :m]
        wave = part if i == last else resample(part, b.sr, p.bands[i + 1].sr)
    assert wave is not None
    return wave.astype(np.float32)
