"""Audio for merges and splits (new files only: originals are never written), and the
energy envelope the editor draws."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def _read(path: Path) -> tuple[np.ndarray, int]:
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return data.mean(axis=1), sr


def _write(path: Path, data: np.ndarray, sr: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sf.write(str(tmp), data, sr, subtype="PCM_16", format="WAV")
    tmp.replace(path)


def merge_wavs(a: Path, b: Path, out: Path) -> None:
    """``a`` then ``b`` as one mono file at ``a``'s rate (``b`` resampled when needed)."""
    xa, sra = _read(a)
    xb, srb = _read(b)
    if srb != sra:
        import soxr
        xb = soxr.resample(xb, srb, sra).astype(np.float32)
    _write(out, np.concatenate([xa, xb]), sra)


def split_wav(src: Path, at_s: float, out_a: Path, out_b: Path) -> None:
    x, sr = _read(src)
    k = int(round(at_s * sr))
    if not 0 < k < len(x):
        raise ValueError(f"split point {at_s:.2f} s is outside the clip (0 … {len(x) / sr:.2f} s)")
    _write(out_a, x[:k], sr)
    _write(out_b, x[k:], sr)


def energy_envelope(path: Path, buckets: int) -> np.ndarray:
    """RMS per bucket, scaled to 0..1 (peak bucket = 1)."""
    x, _ = _read(path)
    if len(x) == 0 or buckets <= 0:
        return np.zeros(max(buckets, 0), dtype=np.float32)
    edges = np.linspace(0, len(x), buckets + 1).astype(int)
    sq = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    n = np.maximum(edges[1:] - edges[:-1], 1)
    rms = np.sqrt((sq[edges[1:]] - sq[edges[:-1]]) / n)
    peak = float(rms.max())
    return (rms / peak).astype(np.float32) if peak > 0 else rms.astype(np.float32)


def quietest_point(env: np.ndarray, duration: float) -> float:
    """A split point that is likely a pause: the lowest-energy bucket in the middle half."""
    if len(env) < 4 or duration <= 0:
        return duration / 2
    lo, hi = len(env) // 4, max(len(env) * 3 // 4, len(env) // 4 + 1)
    k = lo + int(np.argmin(env[lo:hi]))
    return (k + 0.5) / len(env) * duration
