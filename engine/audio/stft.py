"""Small numpy STFT/ISTFT (centred, periodic Hann, like torch.stft/istft) and the two
streaming helpers every long-file process here uses: framed magnitudes for analysis, and
fixed-size segments with context for processing with bounded memory."""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np


def hann(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


def stft(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """(..., n) real → (..., n_fft//2+1, frames) complex, reflect-padded by n_fft//2."""
    pad = n_fft // 2
    mode = "reflect" if x.shape[-1] > pad else "constant"
    xp = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode=mode)
    frames = np.lib.stride_tricks.sliding_window_view(xp, n_fft, axis=-1)[..., ::hop, :]
    return np.fft.rfft(frames * hann(n_fft), axis=-1).swapaxes(-1, -2)


def istft(spec: np.ndarray, n_fft: int, hop: int, length: int) -> np.ndarray:
    """Inverse of :func:`stft` by windowed overlap-add, normalised by the summed window²."""
    win = hann(n_fft)
    frames = np.fft.irfft(spec.swapaxes(-1, -2), n=n_fft, axis=-1) * win
    n_frames = frames.shape[-2]
    total = n_fft + hop * (n_frames - 1)
    out = np.zeros(frames.shape[:-2] + (total,), dtype=np.float64)
    norm = np.zeros(total, dtype=np.float64)
    for k in range(n_fft // hop):  # add every (n_fft/hop)-th frame at once: no overlaps
        sel = frames[..., k::n_fft // hop, :]
        m = sel.shape[-2]
        if m == 0:
            continue
        start = k * hop
        seg = sel.reshape(sel.shape[:-2] + (m * n_fft,))
        out[..., start:start + m * n_fft] += seg
        norm[start:start + m * n_fft] += np.tile(win.astype(np.float64) ** 2, m)
    pad = n_fft // 2
    out = out[..., pad:pad + length]
    norm = norm[pad:pad + length]
    return (out / np.where(norm > 1e-8, norm, 1.0)).astype(np.float32)


def segments(blocks: Iterator[np.ndarray], seg: int, ctx: int,
             fn: Callable[[np.ndarray], np.ndarray]) -> Iterator[np.ndarray]:
    """Apply ``fn`` to windows of ``seg + 2*ctx`` (frames, channels) samples, zero-padded past
    the file's ends, and yield each window's centre ``seg`` samples (the last one shorter):
    at most a few windows are held, whatever the file's length."""
    buf: np.ndarray | None = None
    buf_start = -ctx  # absolute index of buf[0]; the left context starts in the zeros
    pos = 0  # absolute start of the next centre
    for block in blocks:
        if buf is None:
            buf = np.zeros((ctx, block.shape[1]), dtype=np.float32)
        buf = np.concatenate([buf, block.astype(np.float32, copy=False)])
        while buf_start + buf.shape[0] >= pos + seg + ctx:
            a = pos - ctx - buf_start
            yield fn(buf[a:a + seg + 2 * ctx])[ctx:ctx + seg]
            pos += seg
            drop = pos - ctx - buf_start
            buf, buf_start = buf[drop:], buf_start + drop
    if buf is None:
        return
    end = buf_start + buf.shape[0]
    while pos < end:
        a = pos - ctx - buf_start
        window = buf[a:a + seg + 2 * ctx]
        window = np.concatenate([window, np.zeros((seg + 2 * ctx - window.shape[0],
                                                   window.shape[1]), np.float32)])
        yield fn(window)[ctx:ctx + min(seg, end - pos)]
        pos += seg
