"""Listening to every checkpoint, and the take-home bundle reloading through our
upstream-format loaders."""
from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import pytest
import soundfile as sf
import yaml

from engine.dataset.listfile import read_list
from engine.events import Artifact, Result, StepError
from engine.models.gpt import load_gpt
from engine.models.sovits import load_sovits
from engine.synth.export import run_export
from engine.synth.listen import pairs, run_listen_checkpoints
from engine.synth.reference import candidates, resolve
from engine.synth.request import ExportRequest, ListenCheckpointsRequest
from engine.synth.weights import gpt_files, sovits_files
from engine.layout import Layout
from tests.engine.synth.voicekit import EN_REF, SHORT, SLUG, ZH_REF


def test_pairs_each_and_grid():
    s = [Path("v_e1_s10.pth"), Path("v_e2_s20.pth"), Path("v_e3_s30.pth")]
    g = [Path("v-e1.ckpt"), Path("v-e2.ckpt")]
    each = pairs(s, g, "each")
    assert each == [(s[0], g[1]), (s[1], g[1]), (s[2], g[1]), (s[2], g[0])]
    assert len(pairs(s, g, "grid")) == 6
    assert pairs([], g, "each") == []


def test_weights_sorted_by_epoch_and_reference_candidates(voice):
    layout = Layout(voice, SLUG)
    for e in (10, 3):
        (layout.gpt_weights_dir / f"{SLUG}-e{e}.ckpt").write_bytes(b"x")
    assert [p.name for p in gpt_files(layout)] == [f"{SLUG}-e{e}.ckpt" for e in (1, 2, 3, 10)]
    assert [p.name for p in sovits_files(layout)] == [f"{SLUG}_e1_s10.pth", f"{SLUG}_e2_s20.pth"]
    found = candidates(layout)
    assert [c.wav for c in found] == [EN_REF[0], ZH_REF[0]]  # the 1 s clip is not offered
    assert found[1].language == "zh" and found[1].text == ZH_REF[2]
    with pytest.raises(StepError, match="3 to 10 s"):
        resolve(layout, SHORT[0], "Hi.", "en")
    (voice / "other.wav").write_bytes((voice / EN_REF[0]).read_bytes())
    with pytest.raises(StepError, match="text of the reference clip"):
        resolve(layout, "other.wav", "", "en")
    assert resolve(layout, "other.wav", "", "en", ref_free=True).text == ""


def test_listen_writes_one_wav_per_checkpoint(voice):
    req = ListenCheckpointsRequest(str(voice), text="The weather is nice today.",
                                   language="en", device="cpu", allow_download=False)
    events = list(run_listen_checkpoints(req))
    res = events[-1]
    assert isinstance(res, Result)
    names = sorted(Path(w["path"]).name for w in res.data["wavs"])
    assert names == sorted([f"{SLUG}_e1_s10__{SLUG}-e2.wav", f"{SLUG}_e2_s20__{SLUG}-e2.wav",
                            f"{SLUG}_e2_s20__{SLUG}-e1.wav"])
    assert len([e for e in events if isinstance(e, Artifact)]) == 3
    for w in res.data["wavs"]:
        audio, sr = sf.read(voice / w["path"])
        assert sr == 32000 and len(audio) > 0.3 * sr


def test_export_bundle_reloads_with_upstream_format_loaders(voice):
    from engine.project import set_step_settings

    set_step_settings(voice, "synthesize", {"top_k": 20})
    events = list(run_export(ExportRequest(str(voice), ref_wav=ZH_REF[0])))
    res = events[-1]
    assert isinstance(res, Result), res
    bundle = voice / res.data["path"]
    assert bundle == voice / "output" / f"{SLUG}-export"
    gpt = bundle / "GPT_weights_v2" / f"{SLUG}-e2.ckpt"
    sovits = bundle / "SoVITS_weights_v2" / f"{SLUG}_e2_s20.pth"
    # Copied as-is (upstream's format) and loadable by our upstream-format loaders.
    assert gpt.read_bytes() == (voice / "GPT_weights" / gpt.name).read_bytes()
    assert sovits.read_bytes() == (voice / "SoVITS_weights" / sovits.name).read_bytes()
    assert load_gpt(gpt).info == "GPT-e2"
    assert load_sovits(sovits).cfg.version == "v2"
    doc = tomllib.loads((bundle / "voice.toml").read_text(encoding="utf-8"))
    assert doc["reference"]["text"] == ZH_REF[2] and doc["reference"]["language"] == "zh"
    assert doc["inference"]["top_k"] == 20 and doc["inference"]["cut_method"] == "cut1"
    assert (bundle / doc["reference"]["wav"]).is_file()
    assert doc["voice"]["gpt"] == f"GPT_weights_v2/{gpt.name}"
    api = yaml.safe_load((bundle / "tts_infer.yaml").read_text(encoding="utf-8"))["custom"]
    assert api["t2s_weights_path"] == f"GPT_weights_v2/{gpt.name}"
    assert api["vits_weights_path"] == f"SoVITS_weights_v2/{sovits.name}"
    assert api["version"] == "v2" and "cnhuhbert_base_path" in api
    [line] = read_list(bundle / "reference" / "reference.list")
    assert line.lang == "ZH" and line.text == ZH_REF[2]
    with zipfile.ZipFile(voice / res.data["zip"]) as z:
        assert f"{SLUG}-export/SoVITS_weights_v2/{sovits.name}" in z.namelist()
        assert f"{SLUG}-export/voice.toml" in z.namelist()
    # Exporting again replaces the bundle (no half-written folder is ever left behind).
    list(run_export(ExportRequest(str(voice), ref_wav=EN_REF[0], make_zip=False)))
    assert not list((voice / "output").glob("*.partial"))
    doc = tomllib.loads((bundle / "voice.toml").read_text(encoding="utf-8"))
    assert doc["reference"]["language"] == "en"
