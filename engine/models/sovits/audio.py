"""Linear spectrogram and log-mel exactly as SoVITS computes them (torch.stft + librosa's
mel filters): 32 kHz, n_fft 2048, hop 640, Hann window, reflect padding of (n_fft-hop)/2
on each side and no centring, so one frame per hop."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from engine.models.sovits.config import HOP, N_FFT, N_MELS, SAMPLE_RATE, WIN


def spectrogram(wav: torch.Tensor, n_fft: int = N_FFT, hop: int = HOP,
                win: int = WIN) -> torch.Tensor:
    """(B, N) float waveform in [-1, 1] -> (B, n_fft/2+1, N // hop) magnitude."""
    if wav.dim() == 1:
        wav = wav.unsqueeze(0)
    pad = (n_fft - hop) // 2
    x = F.pad(wav.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    window = torch.hann_window(win, dtype=wav.dtype, device=wav.device)
    z = torch.stft(x, n_fft, hop_length=hop, win_length=win, window=window, center=False,
                   normalized=False, onesided=True, return_complex=True)
    return torch.sqrt(z.real.pow(2) + z.imag.pow(2) + 1e-8)


@lru_cache(maxsize=8)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)


def spec_to_mel(spec: torch.Tensor, sr: int = SAMPLE_RATE, n_fft: int = N_FFT,
                n_mels: int = N_MELS, fmin: float = 0.0, fmax: float | None = None) -> torch.Tensor:
    """Linear magnitude (B, F, T) -> log mel (B, n_mels, T), log(clamp(x, 1e-5))."""
    basis = torch.from_numpy(_mel_basis(sr, n_fft, n_mels, fmin, fmax)).to(spec)
    return torch.log(torch.clamp(basis @ spec, min=1e-5))


def mel_spectrogram(wav: torch.Tensor, sr: int = SAMPLE_RATE, n_fft: int = N_FFT,
                    hop: int = HOP, win: int = WIN, n_mels: int = N_MELS) -> torch.Tensor:
    return spec_to_mel(spectrogram(wav, n_fft, hop, win), sr, n_fft, n_mels)
