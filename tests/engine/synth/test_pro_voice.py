"""Synthesis with a v2ProPlus voice: the project's version is enforced on the SoVITS file,
each reference's speaker embedding is computed once (then read from memory or from
runs/sv-cache/), and the main and extra references are averaged with their embeddings."""
from __future__ import annotations

import lzma

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.events import Result, StepError
from engine.synth.request import SynthRequest
from engine.synth.speaker import CACHE_DIR, ReferenceEmbeddings
from engine.synth.step import run_synthesize
from tests.engine.sv.conftest import V2PRO
from tests.engine.synth.voicekit import EN_REF, GPT_MAX_SEC, SLUG, install_models, tiny_gpt_config

AUX = ("audio/slices/aux.wav", "EN", "A second clip of the same voice, for its timbre.")


@pytest.fixture(scope="module")
def sv_ckpt(tmp_path_factory):
    out = tmp_path_factory.mktemp("sv") / "pretrained_eres2netv2w24s4ep4.ckpt"
    out.write_bytes(lzma.decompress((V2PRO / "sv_eres2netv2w24s4ep4_random.ckpt.xz").read_bytes()))
    return out


@pytest.fixture(scope="module")
def encoder(sv_ckpt):
    from engine.models.sv import SpeakerEncoder

    return SpeakerEncoder(sv_ckpt)


def _pro_project(root, version="v2ProPlus", sovits_version="v2ProPlus"):
    from engine.models.gpt import Text2Semantic, export_gpt, upstream_config
    from engine.models.sovits import export_sovits
    from engine.models.sovits.config import tiny_config
    from engine.models.sovits.synthesizer import Synthesizer
    from engine.project import create_project
    from tests.helpers.speech import speak

    p = create_project(root, "Voice", language="en", version=version)
    torch.manual_seed(1)
    cfg = tiny_gpt_config()
    export_gpt(Text2Semantic(cfg), p.layout.gpt_weights_dir, SLUG, 1,
               upstream_config(cfg, exp_name=SLUG, max_sec=GPT_MAX_SEC))
    export_sovits(Synthesizer(tiny_config(sovits_version)).eval(), p.layout.sovits_weights_dir,
                  SLUG, 1, 10)
    rows = []
    for wav, lang, text in (EN_REF, AUX):
        speak(text, root / wav)
        rows.append(f"{wav}|{SLUG}|{lang}|{text}")
    p.layout.list_file.parent.mkdir(parents=True, exist_ok=True)
    p.layout.list_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def _install_sv(sv_ckpt):
    from engine.hub import PRETRAINED, default_dir

    dest = default_dir(PRETRAINED["sv"])
    dest.mkdir(parents=True, exist_ok=True)
    if not (dest / sv_ckpt.name).exists():
        (dest / sv_ckpt.name).symlink_to(sv_ckpt)


def test_reference_embedding_cached_in_memory_and_on_disk(tmp_path, encoder, sv_ckpt):
    from engine.audio.decode import load_mono
    from tests.helpers.speech import speak

    wav = speak(EN_REF[2], tmp_path / "ref.wav")
    audio = load_mono(wav, 32000)[0]
    first = ReferenceEmbeddings(encoder, sv_ckpt, tmp_path / "proj")
    a = first.embed(wav, audio)
    assert a.shape == (1, 20480) and first.computed == 1
    assert torch.equal(a, encoder.embed_32k(torch.from_numpy(audio)[None]).reshape(1, -1))
    assert torch.equal(first.embed(wav, audio), a) and first.computed == 1  # memory
    files = list((tmp_path / "proj" / CACHE_DIR).glob("*.pt"))
    assert len(files) == 1
    later = ReferenceEmbeddings(encoder, sv_ckpt, tmp_path / "proj")  # the next process
    assert torch.equal(later.embed(wav, audio), a) and later.computed == 0
    files[0].write_bytes(b"PK\x03\x04 cut short")  # a damaged copy is recomputed and replaced
    again = ReferenceEmbeddings(encoder, sv_ckpt, tmp_path / "proj")
    assert torch.equal(again.embed(wav, audio), a) and again.computed == 1
    assert torch.load(files[0], weights_only=True).shape == (1, 20480)
    # an edited clip is a new key, never answered from the cache
    sf.write(str(wav), 0.5 * audio, 32000, subtype="PCM_16")
    edited = load_mono(wav, 32000)[0]
    assert not torch.equal(again.embed(wav, edited), a) and again.computed == 2


@pytest.mark.slow
def test_pro_voice_speaks_with_averaged_references(tmp_path, sv_ckpt, bert_dir, hubert_dir,
                                                     gsv_home):
    install_models(bert_dir, hubert_dir)
    _install_sv(sv_ckpt)
    root = _pro_project(tmp_path / "proj")
    kw = dict(text="Hello there.", language="en", ref_wav=EN_REF[0], seed=3, device="cpu",
              allow_download=False)
    one = list(run_synthesize(SynthRequest(str(root), output_name="one", **kw)))[-1]
    assert isinstance(one, Result), one
    cached = sorted((root / CACHE_DIR).glob("*.pt"))
    assert len(cached) == 1
    two = list(run_synthesize(SynthRequest(str(root), output_name="two", aux_refs=[AUX[0]],
                                           **kw)))[-1]
    assert isinstance(two, Result), two
    assert len(list((root / CACHE_DIR).glob("*.pt"))) == 2  # the main one was reused
    again = list(run_synthesize(SynthRequest(str(root), output_name="again", **kw)))[-1]
    a1, _ = sf.read(root / one.data["path"], dtype="float32")
    a2, _ = sf.read(root / two.data["path"], dtype="float32")
    a3, _ = sf.read(root / again.data["path"], dtype="float32")
    assert np.array_equal(a1, a3)  # the cached embedding gives the same speech
    assert len(a1) == len(a2) and not np.array_equal(a1, a2)  # the extra timbre is averaged in


def test_v2_sovits_in_a_pro_project_is_refused(tmp_path, gsv_home):
    root = _pro_project(tmp_path / "proj", sovits_version="v2")
    with pytest.raises(StepError) as err:
        list(run_synthesize(SynthRequest(str(root), text="Hello there.", language="en",
                                         ref_wav=EN_REF[0], device="cpu", allow_download=False,
                                         ref_free=True)))
    assert "is a SoVITS v2 model but this project uses v2ProPlus" in str(err.value)
