"""ASR fixtures: tiny random models built once per session, espeak-ng clips, a project."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.speech import have_espeak, speak

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Voice cloning needs clean transcripts.",
    "Please call Stella and ask her to bring these things from the store.",
    "She sells sea shells by the sea shore.",
    "The weather today is sunny with a light breeze.",
    "Reading books is a wonderful way to learn new things.",
]


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory) -> Path:
    from tests.engine.asr.tiny_models import build_tiny_whisper

    return build_tiny_whisper(tmp_path_factory.mktemp("tiny-whisper") / "model")


@pytest.fixture(scope="session")
def tiny_paraformer(tmp_path_factory) -> Path:
    from tests.engine.asr.tiny_models import build_tiny_paraformer

    return build_tiny_paraformer(tmp_path_factory.mktemp("tiny-paraformer") / "model")


@pytest.fixture(scope="session")
def speech_clips(tmp_path_factory) -> list[Path]:
    """One 32 kHz wav per sentence, named like the slicer's clips."""
    if not have_espeak():
        pytest.fail("espeak-ng is needed for ASR tests (apt-get install espeak-ng sox)")
    folder = tmp_path_factory.mktemp("speech")
    return [speak(s, folder / f"rec_{i * 100000:010d}_{i * 100000 + 99999:010d}.wav")
            for i, s in enumerate(SENTENCES)]


@pytest.fixture
def project(tmp_path, speech_clips) -> Path:
    """A project whose audio/slices holds the first four speech clips."""
    from engine.project import create_project

    root = tmp_path / "proj"
    p = create_project(root, "Test Voice", language="en")
    slices = p.layout.slices_dir
    slices.mkdir(parents=True, exist_ok=True)
    for clip in speech_clips[:4]:
        shutil.copy(clip, slices / clip.name)
    return root
