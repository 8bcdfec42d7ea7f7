"""Load one clip as 16 kHz mono float32, with a one-line reason when it cannot be read
(decoding itself is engine.audio.decode's: soundfile, else PyAV)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.asr.backend import SAMPLE_RATE

CLIP_EXTS = frozenset({".wav", ".flac", ".ogg", ".mp3", ".opus", ".m4a"})


class ClipDecodeError(Exception):
    pass


def load_clip(path: Path) -> np.ndarray:
    from engine.audio.decode import DecodeError, load_mono

    try:
        audio, _ = load_mono(path, SAMPLE_RATE)
    except DecodeError as e:
        raise ClipDecodeError(f"cannot decode {Path(path).name}: {e.reason}") from None
    if audio.size == 0:
        raise ClipDecodeError(f"{Path(path).name} holds no audio")
    if not np.isfinite(audio).all():
        raise ClipDecodeError(f"{Path(path).name} contains NaN or infinite samples")
    return np.ascontiguousarray(audio, dtype=np.float32)
