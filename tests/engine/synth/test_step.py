"""The synthesize step end to end on tiny random models exported with the real exporters,
in a project laid out as the wizard leaves it (weights dirs, proofread .list, espeak clips)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from engine.events import Artifact, Log, Progress, Result, StepError
from engine.synth.pipeline import SAMPLES_PER_CODE, SR
from engine.synth.request import SynthRequest
from engine.synth.split import split_text
from engine.synth.step import reroll_request, run_synthesize
from tests.engine.synth.voicekit import EN_REF, SHORT, ZH_REF

EN_TEXT = ("Hello there. How are you today? The sun is out. Birds sing. We walk to the park. "
           "It is warm. The trees are green. Children play. Then we go home.")


def _run(root, **kw):
    kw.setdefault("device", "cpu")
    kw.setdefault("allow_download", False)
    events = list(run_synthesize(SynthRequest(str(root), **kw)))
    res = events[-1]
    assert isinstance(res, Result), events[-1]
    audio, sr = sf.read(root / res.data["path"], dtype="float32")
    return events, res, audio, sr


def _check_length(res, audio, pause_s=0.3):
    """Each piece is tokens x 2 x 640 samples (25 Hz codes -> 50 Hz frames -> hop 640)
    plus the pause."""
    expected = sum(max(p["tokens"], 1) * SAMPLES_PER_CODE + int(pause_s * SR)
                   for p in res.data["pieces"])
    assert len(audio) == expected


def test_english_several_sentences_cut1_seeded(voice):
    events, res, audio, sr = _run(voice, text=EN_TEXT, language="en", ref_wav=EN_REF[0],
                                  seed=7, output_name="en")
    assert sr == 32000 and res.data["path"] == "output/en.wav"
    # cut1: nine sentences -> a chunk of four and a final chunk of five
    assert [p["text"].count(".") + p["text"].count("?") for p in res.data["pieces"]] == [4, 5]
    assert [p["seed"] for p in res.data["pieces"]] == [7, 8]
    assert all(11 <= p["tokens"] <= 51 for p in res.data["pieces"])  # EOS barred for 11 steps
    _check_length(res, audio)
    prog = [(e.done, e.total) for e in events if isinstance(e, Progress)]
    assert prog == [(1, 2), (2, 2)]
    assert [e.path for e in events if isinstance(e, Artifact)] == ["output/en.wav"]
    # The reference's text came from the proofread list.
    assert any(EN_REF[2] in e.line for e in events if isinstance(e, Log))

    _, again, audio2, _ = _run(voice, text=EN_TEXT, language="en", ref_wav=EN_REF[0],
                               seed=7, output_name="en2")
    assert np.array_equal(audio, audio2)  # same seed, same speech

    # Re-roll the second piece only (from the result's sidecar, as the pane does): the
    # first piece stays sample for sample.
    sidecar = json.loads((voice / "output" / "en.json").read_text(encoding="utf-8"))
    assert sidecar["pieces"] == res.data["pieces"] and sidecar["request"]["seed"] == 7
    # What "newest" meant then is pinned, so a re-roll after more training uses the same voice.
    assert sidecar["request"]["gpt_path"] == "GPT_weights/voice-e2.ckpt"
    assert sidecar["request"]["ref_text"] == EN_REF[2]
    req = reroll_request(sidecar, 1, 99, "en3")
    events = list(run_synthesize(req))
    reroll = events[-1]
    audio3, _ = sf.read(voice / "output" / "en3.wav", dtype="float32")
    assert [p["seed"] for p in reroll.data["pieces"]] == [7, 99]
    first = res.data["pieces"][0]["seconds"]
    n0 = int(round(first * SR))
    assert np.array_equal(audio3[:n0], audio[:n0])
    assert not np.array_equal(audio3, audio)
    _check_length(reroll, audio3)


def test_chinese_with_english_words_and_a_chinese_reference(voice):
    text = "你好，世界！今天天气很不错。我们去公园吧，OK？一二三四五六七八九十。"
    _, res, audio, sr = _run(voice, text=text, language="zh", ref_wav=ZH_REF[0], seed=3,
                             cut_method="cut5", output_name="zh")
    assert sr == 32000
    assert [p["text"] for p in res.data["pieces"]] == split_text(text, "cut5", "zh")
    assert len(res.data["pieces"]) >= 3
    _check_length(res, audio)


def test_reference_free_mode_and_automatic_reference(voice):
    events, res, audio, _ = _run(voice, text="Good evening to all of you.", language="en",
                                 ref_free=True, seed=1, pause_s=0.1)
    assert res.data["ref_wav"] == EN_REF[0]  # 3–10 s, nearest to 6 s; "short.wav" never
    assert any("reference-free" in e.line for e in events if isinstance(e, Log))
    _check_length(res, audio, pause_s=0.1)


def test_reference_outside_3_to_10_seconds_is_refused(voice):
    req = SynthRequest(str(voice), text="Hello.", language="en", ref_wav=SHORT[0],
                       device="cpu", allow_download=False)
    with pytest.raises(StepError, match="3 to 10 s") as err:
        list(run_synthesize(req))
    assert "Pick a clip of 3–10 s" in err.value.hint


def test_missing_weights_are_explained(voice):
    for f in (voice / "GPT_weights").iterdir():
        f.unlink()
    req = SynthRequest(str(voice), text="Hello.", language="en", ref_wav=EN_REF[0])
    with pytest.raises(StepError, match="No trained GPT weights"):
        list(run_synthesize(req))


def test_punctuation_only_text_is_refused(voice):
    with pytest.raises(StepError, match="no text"):
        list(run_synthesize(SynthRequest(str(voice), text="……!", language="en")))


def test_a_stop_writes_the_pieces_already_spoken(voice):
    from engine.events import StopToken

    stop = StopToken()
    stop.request()  # asked before the first piece ends: that piece is still written
    events = list(run_synthesize(SynthRequest(
        str(voice), text=EN_TEXT, language="en", ref_wav=EN_REF[0], seed=2, cut_method="cut5",
        device="cpu", allow_download=False, output_name="stopped"), stop=stop))
    res = events[-1]
    assert isinstance(res, Result) and len(res.data["pieces"]) == 1
    assert any("Stopped after 1 of" in e.line for e in events if isinstance(e, Log))
    assert (voice / "output" / "stopped.wav").is_file()


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_cpu_fast_precisions_speak_with_the_same_length_rule(voice, precision):
    events, res, audio, sr = _run(voice, text="Hello there. How are you today?", language="en",
                                  ref_wav=EN_REF[0], seed=3, precision=precision,
                                  output_name=f"fast-{precision}")
    assert sr == 32000 and np.isfinite(audio).all() and np.abs(audio).max() > 0
    _check_length(res, audio)
    assert any(f"precision {precision}" in e.line for e in events if isinstance(e, Log))
