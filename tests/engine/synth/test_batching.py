"""Batched synthesis of pieces (engine/synth/batching.py): the pieces of one text decoded as
one GPT batch give every piece the codes, and so the audio, it gets one by one; forced on
here with batch_pieces="on" (``auto`` batches on CUDA only)."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from engine.events import Log, Result
from engine.synth.batching import BATCH_MAX, enabled, groups
from engine.synth.longtext import run_read
from engine.synth.request import ReadRequest, SynthRequest
from engine.synth.step import run_synthesize
from tests.engine.synth.voicekit import EN_REF

TEXT = "Hello there. How are you today? The sun is out. Birds sing, we walk. It is warm."


def _speak(root, name: str, **kw):
    req = SynthRequest(str(root), text=TEXT, language="en", ref_wav=EN_REF[0], seed=5,
                       cut_method="cut5", device="cpu", allow_download=False,
                       back_check=False, output_name=name, **kw)
    events = list(run_synthesize(req))
    res = events[-1]
    assert isinstance(res, Result), res
    audio, _ = sf.read(root / res.data["path"], dtype="float32")
    batched = [e.line for e in events if isinstance(e, Log) and "one batch" in e.line]
    return res.data["pieces"], audio, batched


@pytest.mark.parametrize("top_k", [1, 15], ids=["greedy", "sampled"])
def test_batched_pieces_get_their_one_by_one_codes_and_audio(voice, top_k):
    alone, audio_alone, logs = _speak(voice, "alone", top_k=top_k, batch_pieces="off")
    assert not logs and len(alone) >= 5
    together, audio, logs = _speak(voice, "together", top_k=top_k, batch_pieces="on")
    assert logs == [f"Pieces 1-{len(alone)}: GPT codes decoded as one batch of {len(alone)}."]
    assert [(p["seed"], p["tokens"]) for p in together] == [(p["seed"], p["tokens"])
                                                            for p in alone]
    # Pieces of different phoneme counts: the batch pads them on the left (rows ending at
    # different steps: tests/engine/gpt/test_static.py, test_parity.py).
    assert len({len(p["text"]) for p in alone}) > 1
    assert np.array_equal(audio, audio_alone)


def test_auto_does_not_batch_on_cpu(voice):
    _, _, logs = _speak(voice, "auto")  # the default: auto
    assert not logs


def test_long_reading_batches_the_pieces_it_still_has_to_speak(voice, tmp_path):
    story = tmp_path / "story.txt"
    story.write_text("It was cold. The wind blew.\n\nShe walked. The train was late.\n",
                     encoding="utf-8")
    out = {}
    for mode in ("off", "on"):
        req = ReadRequest(str(voice), text_file=str(story), output_name=f"read-{mode}",
                          language="en", ref_wav=EN_REF[0], cut_method="cut4", seed=21,
                          device="cpu", allow_download=False, back_check=False,
                          batch_pieces=mode)
        events = list(run_read(req))
        assert isinstance(events[-1], Result), events[-1]
        out[mode] = (sf.read(voice / events[-1].data["path"], dtype="float32")[0],
                     [e.line for e in events if isinstance(e, Log) and "one batch" in e.line])
    assert out["off"][1] == [] and out["on"][1] == ["Pieces 1-4: GPT codes decoded as one batch of 4."]
    assert np.array_equal(out["on"][0], out["off"][0])


def test_when_batching_applies():
    assert enabled("auto", "cuda", 2) and enabled("auto", "cuda:1", 3)
    assert not enabled("auto", "cpu", 5) and enabled("on", "cpu", 2)
    assert not enabled("on", "cuda", 1) and not enabled("off", "cuda", 9)
    assert groups(list(range(BATCH_MAX + 3))) == [list(range(BATCH_MAX)),
                                                 list(range(BATCH_MAX, BATCH_MAX + 3))]
