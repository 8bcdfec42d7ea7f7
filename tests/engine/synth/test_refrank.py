"""Reference suggestions on generated clips: a clean one, a noisy one, a clipped one (and,
with the real Whisper base model, one whose listed text is not what it says): the clean
one ranks first; "try the top N" reads the test sentence with each of the best N."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.events import Result
from engine.project import create_project
from engine.synth.refrank import rank, run_try_refs, snr_db
from engine.synth.request import TryRefsRequest
from tests.engine.synth.voicekit import EN_REF, ZH_REF
from tests.helpers.speech import speech_array

SAID = "Good morning everyone, this is a reference clip for the voice we are training today."
OTHER = "The weather is sunny with a light breeze and nobody wants to stay inside."


@pytest.fixture(scope="module")
def clean_speech(tmp_path_factory) -> np.ndarray:
    audio = speech_array(SAID, tmp_path_factory.mktemp("speech"))
    assert 3.0 < len(audio) / 32000 < 10.0
    return audio


def _project(tmp_path: Path, clips: dict[str, tuple[np.ndarray, str]]):
    layout = create_project(tmp_path / "p", "Refs", language="en").layout
    layout.slices_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, (audio, text) in clips.items():
        sf.write(layout.slices_dir / f"{name}.wav", audio, 32000, subtype="PCM_16")
        rows.append(f"audio/slices/{name}.wav|refs|EN|{text}")
    layout.list_file.parent.mkdir(parents=True, exist_ok=True)
    layout.list_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return layout


def _variants(clean: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    noisy = clean + rng.normal(0, 0.03, clean.shape).astype(np.float32)  # a fan, a street
    clipped = np.clip(clean * 12, -1, 1)  # the gain far too high
    return {"noisy": noisy, "clipped": clipped, "clean": clean}


def test_the_clean_clip_ranks_first(tmp_path, clean_speech):
    layout = _project(tmp_path, {k: (a, SAID) for k, a in _variants(clean_speech).items()})
    ranked = rank(layout)
    assert [Path(s.wav).stem for s in ranked][0] == "clean", [(s.wav, s.score) for s in ranked]
    by = {Path(s.wav).stem: s for s in ranked}
    assert by["clean"].score > 0.8 and not by["clean"].notes
    assert "noisy" in by["noisy"].notes and by["noisy"].score < by["clean"].score / 2
    assert "clipped" in by["clipped"].notes and by["clipped"].score < 0.1
    assert by["noisy"].snr_db < 25 < by["clean"].snr_db
    assert snr_db(np.zeros(32000, np.float32), 32000) == 0.0


def test_asr_agreement_ranks_a_clip_with_the_wrong_text_below(tmp_path, clean_speech):
    from engine.synth.backcheck import open_checker
    from tests.engine.asr.whisper_base import whisper_base_dir

    layout = _project(tmp_path, {"said": (clean_speech, SAID), "mislabelled":
                                 (clean_speech.copy(), OTHER)})
    checker = open_checker(str(whisper_base_dir()), "en", "cpu")
    ranked = rank(layout, checker)
    assert [Path(s.wav).stem for s in ranked] == ["said", "mislabelled"]
    assert ranked[0].asr_error < 0.3 < ranked[1].asr_error
    assert "ASR hears other words" in ranked[1].notes
    assert rank(layout)[0].score == rank(layout)[1].score  # without ASR they look the same


def test_try_the_top_references(voice):
    req = TryRefsRequest(str(voice), text="Hello there.", language="en", top=2, seed=3,
                         device="cpu", allow_download=False)
    res = list(run_try_refs(req))[-1]
    assert isinstance(res, Result), res
    wavs = [w["path"] for w in res.data["wavs"]]
    assert sorted(wavs) == sorted(f"output/references/{n:02d}-{Path(w).stem}.wav"
                                  for n, w in enumerate([res.data["wavs"][0]["wav"],
                                                         res.data["wavs"][1]["wav"]], 1))
    assert {w["wav"] for w in res.data["wavs"]} == {EN_REF[0], ZH_REF[0]}
    for w in wavs:
        audio, sr = sf.read(voice / w)
        assert sr == 32000 and len(audio) > 0
    ranking = json.loads((voice / "output" / "references" / "ranking.json").read_text())
    assert len(ranking["ranking"]) == 2 and ranking["text"] == "Hello there."


def test_gsv_synthesize_lists_ranked_refs_and_builds_the_try_request(voice, capsys):
    from gsv_tui.cli import main

    assert main(["synthesize", "-C", str(voice), "--list-refs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(" LUFS  snr " in line for line in lines)
    scores = [float(line.split()[0]) for line in lines]
    assert scores == sorted(scores, reverse=True)
    assert main(["synthesize", "-C", str(voice), "--try-refs", "--top", "3", "--text", "Hi there.",
                 "--no-use-asr", "--print-request"]) == 0
    req = json.loads(capsys.readouterr().out)
    assert req["top"] == 3 and req["text"] == "Hi there." and req["use_asr"] is False


def test_extra_references_average_the_timbre(voice):
    """aux_refs (upstream's aux_ref_audio_paths): same seed and tokens, another timbre; a
    missing clip is a sentence before any model loads."""
    from engine.events import StepError
    from engine.synth.request import SynthRequest
    from engine.synth.step import run_synthesize

    def say(name, **kw):
        req = SynthRequest(str(voice), text="Hello there.", language="en", ref_wav=EN_REF[0],
                           seed=2, device="cpu", allow_download=False, output_name=name, **kw)
        events = list(run_synthesize(req))
        assert isinstance(events[-1], Result), events[-1]
        return events, sf.read(voice / "output" / f"{name}.wav")[0]

    _, one = say("one")
    events, two = say("two", aux_refs=[ZH_REF[0]])
    assert any("Timbre averaged with 1 more clip" in getattr(e, "line", "") for e in events)
    assert len(one) == len(two) and not np.array_equal(one, two)  # same codes, other timbre
    sidecar = json.loads((voice / "output" / "two.json").read_text())
    assert sidecar["request"]["aux_refs"] == [ZH_REF[0]]
    with pytest.raises(StepError, match="extra reference audio/slices/nope.wav does not exist"):
        list(run_synthesize(SynthRequest(str(voice), text="Hi there.", language="en",
                                         ref_wav=EN_REF[0], aux_refs=["audio/slices/nope.wav"])))
