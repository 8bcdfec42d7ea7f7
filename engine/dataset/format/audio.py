"""The two audio forms 1A derives from each clip, with upstream's exact scaling: the 32 kHz
int16 wav SoVITS trains on, and the 16 kHz HuBERT input (same peak mix, scaled to 1145.14,
fed to HubertModel without the feature extractor's normalisation)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PEAK_LIMIT = 2.2  # louder than this is a broken decode, not speech: upstream skips the clip
_MAXX, _ALPHA = 0.95, 0.5


@dataclass
class ClipAudio:
    wav32k_int16: np.ndarray
    hubert_input_16k: np.ndarray  # float32
    peak: float


class ClipTooLoud(Exception):
    def __init__(self, peak: float) -> None:
        super().__init__(f"peak {peak:.2f} > {PEAK_LIMIT}")
        self.peak = peak


def _mix(x: np.ndarray, peak: float, scale: float) -> np.ndarray:
    # Half peak-normalised to 0.95, half the original level: upstream's loudness mix.
    return x / peak * (_MAXX * _ALPHA * scale) + ((1 - _ALPHA) * scale) * x


def prepare(path: Path) -> ClipAudio:
    import librosa

    from engine.audio.decode import load_mono

    x, _ = load_mono(path, 32000)
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak > PEAK_LIMIT:
        raise ClipTooLoud(peak)
    if peak == 0.0:
        raise ValueError("the clip is silent")
    wav32 = _mix(x, peak, 32768.0).astype(np.int16)  # cast wraps like upstream's astype
    x16 = librosa.resample(_mix(x, peak, 1145.14).astype(np.float32), orig_sr=32000,
                           target_sr=16000)
    return ClipAudio(wav32, x16.astype(np.float32), peak)


def write_wav32k(path: Path, samples: np.ndarray) -> None:
    import soundfile as sf

    from engine.atomic import atomic_write_bytes

    buf = io.BytesIO()
    sf.write(buf, samples, 32000, subtype="PCM_16", format="WAV")
    atomic_write_bytes(path, buf.getvalue())
