"""The synthesize step end to end on tiny real models: upstream's small GPT and SoVITS
exports, a tiny random HuBERT, and an espeak reference clip."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import soundfile as sf
import torch

from engine.models.gpt import export_gpt, load_gpt
from engine.events import Artifact, Progress, Result, StepError
from engine.synth.request import SynthRequest
from engine.synth.step import run_synthesis
from tests.helpers.speech import have_espeak, speak

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "upstream-v2"


@pytest.fixture
def voice_project(tmp_path, sovits_file) -> Path:
    if not have_espeak():
        pytest.fail("espeak-ng is required (installed by scripts/setup.sh)")
    root = tmp_path / "proj"
    (root / "GPT_weights").mkdir(parents=True)
    (root / "SoVITS_weights").mkdir()
    # Upstream's small random GPT, its EOS row strengthened so it ends pieces early the
    # way a trained model does (a random one rambles for up to 1500 tokens).
    gpt = load_gpt(FIXTURES / "gpt_v2_small-e1.ckpt")
    with torch.no_grad():
        gpt.model.ar_predict_layer.weight[gpt.config.EOS] *= 3
    export_gpt(gpt.model, root / "GPT_weights", "proj", 1, gpt.full_config)
    shutil.copy(sovits_file, root / "SoVITS_weights" / "proj_e1_s10.pth")
    speak("Good morning everyone, this is the reference clip for the voice.",
          root / "ref.wav")
    return root


def test_synthesis_writes_a_wav_per_request(voice_project, hubert_dir):
    req = SynthRequest(str(voice_project), text="Hello there. How are you today?",
                       language="en", ref_wav="ref.wav", ref_text="Good morning everyone.",
                       ref_language="en", hubert_dir=str(hubert_dir), seed=7,
                       allow_download=False, output_name="out", device="cpu",
                       cut_method="cut5")
    events = list(run_synthesis(req))
    prog = [e for e in events if isinstance(e, Progress)]
    assert [(p.done, p.total) for p in prog] == [(1, 2), (2, 2)]
    art = [e for e in events if isinstance(e, Artifact)]
    assert art[0].path == "output/out.wav"
    audio, sr = sf.read(voice_project / art[0].path)
    assert sr == 32000 and len(audio) > 0.3 * 32000
    res = events[-1]
    assert isinstance(res, Result) and res.data["seed"] == 7
    assert res.data["pieces"] == 2 and res.data["seconds"] < 10


def test_reference_outside_3_to_10_seconds_is_refused(voice_project, hubert_dir):
    speak("Hi.", voice_project / "short.wav")
    req = SynthRequest(str(voice_project), text="Hello.", language="en", ref_wav="short.wav",
                       ref_text="Hi.", ref_language="en", hubert_dir=str(hubert_dir),
                       allow_download=False, device="cpu")
    with pytest.raises(StepError, match="3 to 10 s"):
        list(run_synthesis(req))


def test_missing_weights_are_explained(tmp_path):
    (tmp_path / "ref.wav").write_bytes(b"")
    req = SynthRequest(str(tmp_path), text="Hello.", language="en", ref_wav="ref.wav")
    with pytest.raises(StepError, match="No trained GPT weights"):
        list(run_synthesis(req))
