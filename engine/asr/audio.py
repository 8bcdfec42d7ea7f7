"""Load one clip as 16 kHz mono float32, with a one-line reason when it cannot be read."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.asr.backend import SAMPLE_RATE

CLIP_EXTS = frozenset({".wav", ".flac", ".ogg", ".mp3", ".opus", ".m4a"})


class ClipDecodeError(Exception):
    pass


def load_clip(path: Path) -> np.ndarray:
    import soundfile as sf

    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as sf_err:  # libsndfile can't: try FFmpeg through PyAV (m4a, opus…)
        try:
            from faster_whisper.audio import decode_audio

            return np.asarray(decode_audio(str(path), sampling_rate=SAMPLE_RATE), np.float32)
        except Exception:
            raise ClipDecodeError(f"cannot decode {path.name}: {sf_err}") from None
    if data.shape[0] == 0:
        raise ClipDecodeError(f"{path.name} holds no audio")
    mono = data.mean(axis=1)
    if sr != SAMPLE_RATE:
        import soxr

        mono = soxr.resample(mono, sr, SAMPLE_RATE)
    if not np.isfinite(mono).all():
        raise ClipDecodeError(f"{path.name} contains NaN or infinite samples")
    return np.ascontiguousarray(mono, dtype=np.float32)
