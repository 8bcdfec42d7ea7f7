"""Generated speech with silences of known length, shared by the audio tests."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers.speech import silence, speech_array

SR = 32000
SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank today.",
    "She sells sea shells by the sea shore every summer morning.",
    "A journey of a thousand miles begins with a single step forward.",
    "Please call Stella and ask her to bring these things with her from the store.",
]
GAPS_S = [0.8, 1.5, 3.0]  # silences between the sentences


@dataclass(frozen=True)
class Speech:
    path: Path
    audio: np.ndarray
    silences: list[tuple[int, int]]  # sample ranges of the inserted silences (32 kHz)


def trim(x: np.ndarray, thr: float = 1e-3) -> np.ndarray:
    idx = np.flatnonzero(np.abs(x) > thr)
    return x[idx[0]:idx[-1] + 1]


@pytest.fixture(scope="session")
def speech_parts(tmp_path_factory) -> list[np.ndarray]:
    tmp = tmp_path_factory.mktemp("espeak")
    return [trim(speech_array(t, tmp, sr=SR)) * 0.6 for t in SENTENCES]


@pytest.fixture(scope="session")
def speech_with_gaps(tmp_path_factory, speech_parts) -> Speech:
    """Four sentences joined by silences of 0.8, 1.5 and 3.0 s, with 0.5 s of silence at
    each end; written as a 32 kHz mono wav."""
    pieces, silences, pos = [silence(0.5, SR)], [], int(0.5 * SR)
    for k, part in enumerate(speech_parts):
        pieces.append(part)
        pos += part.shape[0]
        if k < len(GAPS_S):
            gap = silence(GAPS_S[k], SR)
            silences.append((pos, pos + gap.shape[0]))
            pieces.append(gap)
            pos += gap.shape[0]
    pieces.append(silence(0.5, SR))
    audio = np.concatenate(pieces).astype(np.float32)
    path = tmp_path_factory.mktemp("speech") / "talk one.wav"
    sf.write(str(path), audio, SR, subtype="FLOAT")
    return Speech(path, audio, silences)
