"""The speaker model's front end: Kaldi's 80-bin log-mel filterbank at 16 kHz with the
options upstream uses (spec §3.3: 25/10 ms povey frames, snip_edges, DC removal,
pre-emphasis 0.97, 512-point power spectrum, mel 20 Hz..Nyquist, no dither, no energy).

Our own torch implementation rather than kaldi-native-fbank: that one only comes with the
optional FunASR extra, and this one runs batched on the model's device. The tests check it
against upstream's output and against kaldi-native-fbank where that is installed.
"""
from __future__ import annotations

import math
from functools import lru_cache

import torch

SAMPLE_RATE = 16000
N_MELS = 80
FRAME = 400  # 25 ms
SHIFT = 160  # 10 ms
N_FFT = 512  # the frame rounded up to a power of two
_PREEMPH = 0.97
_LOW_HZ = 20.0
_EPS = torch.finfo(torch.float32).eps  # Kaldi floors energies at FLT_EPSILON before the log


def n_frames(n_samples: int) -> int:
    """Frames of a clip of ``n_samples`` (snip_edges: only whole frames, none padded)."""
    return 0 if n_samples < FRAME else 1 + (n_samples - FRAME) // SHIFT


def _mel(f):
    return 1127.0 * (1.0 + f / 700.0).log() if isinstance(f, torch.Tensor) \
        else 1127.0 * math.log(1.0 + f / 700.0)


@lru_cache(maxsize=4)
def _mel_matrix(device: str) -> torch.Tensor:
    """[257, 80]: triangles equally spaced on the mel scale, evaluated in float32 at each FFT
    bin's frequency; the Nyquist bin gets no weight (Kaldi's bank stops one bin short)."""
    lo, hi = _mel(_LOW_HZ), _mel(SAMPLE_RATE / 2)
    delta = (hi - lo) / (N_MELS + 1)
    i = torch.arange(N_MELS, dtype=torch.float32).unsqueeze(1)
    left, centre, right = lo + i * delta, lo + (i + 1) * delta, lo + (i + 2) * delta
    mel = _mel(torch.arange(N_FFT // 2, dtype=torch.float32) * (SAMPLE_RATE / N_FFT))
    up = (mel - left) / (centre - left)
    down = (right - mel) / (right - centre)
    bank = torch.clamp(torch.minimum(up, down), min=0.0)  # [80, 256]
    bank = torch.nn.functional.pad(bank, (0, 1))
    return bank.T.contiguous().to(device)


@lru_cache(maxsize=4)
def _window(device: str) -> torch.Tensor:
    # Kaldi's "povey" window: a symmetric Hann raised to 0.85.
    return torch.hann_window(FRAME, periodic=False, dtype=torch.float32).pow(0.85).to(device)


def fbank(wav: torch.Tensor) -> torch.Tensor:
    """[B, N] float audio at 16 kHz in [-1, 1] (not int16-scaled) -> [B, T, 80] log-mel
    features, computed in float32. Rows are independent, as upstream's per-row calls."""
    if wav.dim() == 1:
        wav = wav.unsqueeze(0)
    x = wav.float()
    if n_frames(x.shape[-1]) == 0:
        raise ValueError(f"{x.shape[-1]} samples at 16 kHz is shorter than one 25 ms frame")
    frames = x.unfold(-1, FRAME, SHIFT)  # [B, T, 400]
    frames = frames - frames.mean(dim=-1, keepdim=True)
    # Pre-emphasis; the first sample is its own predecessor.
    prev = torch.cat((frames[..., :1], frames[..., :-1]), dim=-1)
    frames = (frames - _PREEMPH * prev) * _window(str(x.device))
    power = torch.fft.rfft(frames, n=N_FFT).abs().pow(2.0)  # zero-padded to 512 -> 257 bins
    mel = power @ _mel_matrix(str(x.device))
    return torch.clamp(mel, min=_EPS).log()
