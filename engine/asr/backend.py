"""One interface for every recogniser: 16 kHz clips in, one result per clip out.

The step decodes the audio (so a broken file is handled the same way for every backend)
and hands a backend groups of clips; a backend yields results in any order, one per clip.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence

import numpy as np

SAMPLE_RATE = 16000  # what Whisper and Paraformer/SenseVoice expect


@dataclass
class ClipAudio:
    key: str  # the clip's id in the step (its relative path)
    audio: np.ndarray  # mono float32 at SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE


@dataclass
class ClipResult:
    key: str
    text: str = ""
    language: str = ""
    language_prob: float | None = None
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    speech_s: float | None = None
    packed: bool = False
    error: str | None = None


class Backend(Protocol):
    name: str  # "faster-whisper" | "funasr"
    model_id: str  # what records say produced the text (model name or folder name)

    def transcribe(self, clips: Sequence[ClipAudio]) -> Iterator[ClipResult]:
        """One result per clip; a clip that fails gets ``error`` set, the others go on."""
        ...


def compression_ratio(text: str) -> float | None:
    """Whisper's repetition signal: gzip ratio of the text (above ~2.4 means loops)."""
    raw = text.encode("utf-8")
    return round(len(raw) / len(zlib.compress(raw)), 3) if raw else None
