"""32 kHz -> 16 kHz for the speaker model, the way upstream's
``torchaudio.transforms.Resample(32000, 16000)`` does it (spec §3.4), without torchaudio.

The filter is a Hann-windowed sinc (6 zero crossings, rolloff 0.99), built in float64 and
applied in float32 as a stride-2 convolution. It is gentler than soxr's: energy near
8 kHz leaks through and the top of the passband droops, and the speaker model sees those
bins, so a "better" resampler moves the embedding by 1.5-9 % (NOTES.md) -- we match
upstream's instead.
"""
from __future__ import annotations

import math
from functools import lru_cache

import torch

_ZERO_CROSSINGS = 6  # torchaudio's lowpass_filter_width default
_ROLLOFF = 0.99


@lru_cache(maxsize=8)
def _kernel(orig: int, new: int) -> tuple[torch.Tensor, int]:
    """[new, 1, taps] float64 filter bank (one phase per output sample of a period) and the
    half-width ``w`` the input is padded by."""
    cutoff = min(orig, new) * _ROLLOFF
    w = math.ceil(_ZERO_CROSSINGS * orig / cutoff)
    taps = torch.arange(-w, w + orig, dtype=torch.float64) / orig
    phase = -torch.arange(new, dtype=torch.float64).unsqueeze(1) / new
    t = ((taps + phase) * cutoff).clamp(-_ZERO_CROSSINGS, _ZERO_CROSSINGS)
    window = torch.cos(t * math.pi / _ZERO_CROSSINGS / 2) ** 2
    t = t * math.pi
    sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t)
    return (sinc * window * (cutoff / orig)).unsqueeze(1), w


def resample(wav: torch.Tensor, orig_sr: int, new_sr: int) -> torch.Tensor:
    """[..., N] float audio at ``orig_sr`` -> [..., ceil(N * new / orig)] at ``new_sr``."""
    if orig_sr == new_sr:
        return wav
    g = math.gcd(orig_sr, new_sr)
    orig, new = orig_sr // g, new_sr // g
    kernel, w = _kernel(orig, new)
    shape = wav.shape
    x = wav.reshape(-1, 1, shape[-1])
    x = torch.nn.functional.pad(x, (w, w + orig))
    y = torch.nn.functional.conv1d(x, kernel.to(device=x.device, dtype=x.dtype), stride=orig)
    y = y.transpose(1, 2).reshape(x.shape[0], -1)
    n_out = math.ceil(new * shape[-1] / orig)
    return y[..., :n_out].reshape(*shape[:-1], n_out)


def to_16k(wav32k: torch.Tensor) -> torch.Tensor:
    return resample(wav32k, 32000, 16000)
