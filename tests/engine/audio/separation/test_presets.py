"""Presets and chains through the Clean step: the seed recipe finds MDX-Net then
DeEcho-Aggressive in the models folder and runs them in that order (the first model's
output feeds the second), the order is recorded in the manifest; a missing model is a
sentence naming what to fetch."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.audio.denoise_step import DenoiseRequest, run_denoise
from engine.audio.separation.families import LoadOptions, load_separator
from engine.events import Failed, Result
from engine.layout import Layout
from engine.runner import drive

from ..test_denoise import _onnx_model
from .tiny_vr import save_vr

SR = 44100
MDX = {"mdx_n_fft": 256, "mdx_hop": 64}


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _project(root: Path) -> np.ndarray:
    t = np.arange(int(2.5 * SR)) / SR
    rng = np.random.default_rng(0)
    x = np.stack([0.3 * np.sin(2 * np.pi * 200 * t), 0.25 * np.sin(2 * np.pi * 450 * t)], 1)
    x = (x + 0.02 * rng.standard_normal(x.shape)).astype(np.float32)
    raw = Layout(root, "x").raw_dir
    raw.mkdir(parents=True)
    sf.write(str(raw / "take.wav"), x, SR, subtype="FLOAT")
    return x


def _folder(gsv_home: Path) -> Path:
    folder = gsv_home / "data" / "models" / "uvr5"
    _onnx_model(folder / "Kim_Vocal_2.onnx", "conv")
    _onnx_model(folder / "onnx_dereverb_By_FoxJoy" / "vocals.onnx", "identity")
    save_vr(folder / "VR-DeEchoAggressive.pth", "new", seed=1)
    save_vr(folder / "VR-DeEchoNormal.pth", "new", seed=2)
    return folder


def test_seed_recipe_chains_mdx_then_deecho_in_order(tmp_path, gsv_home):
    root = tmp_path / "p"
    x = _project(root)
    folder = _folder(gsv_home)
    req = DenoiseRequest(project_root=str(root), method="models", preset="seed-recipe",
                         segment_s=60.0, device="cpu", **MDX)
    result = list(drive("denoise", run_denoise, req))[-1]
    assert isinstance(result, Result), result
    assert result.data["models"] == ["Kim_Vocal_2.onnx", "VR-DeEchoAggressive.pth"]
    manifest = json.loads((root / "audio/clean/manifest.json").read_text())["files"]
    assert manifest["take.wav"]["chain"] == ["Kim_Vocal_2.onnx", "VR-DeEchoAggressive.pth"]
    got, sr = sf.read(str(root / "audio/clean/take.wav"), dtype="float32")
    assert sr == SR and got.shape == x.shape
    # the same two models applied by hand, the first one's voice into the second
    opts = LoadOptions(device="cpu", mdx={"n_fft": 256, "hop": 64})
    mdx = load_separator(folder / "Kim_Vocal_2.onnx", opts)
    vr = load_separator(folder / "VR-DeEchoAggressive.pth", opts)
    first = mdx.separate(x.T.copy())[0]
    want = np.clip(vr.separate(first)[0].T, -1, 1)
    assert np.abs(got - want).max() < 2e-4  # 16-bit output
    backwards = np.clip(mdx.separate(vr.separate(x.T.copy())[0])[0].T, -1, 1)
    assert np.abs(got - backwards).max() > 1e-2  # the order matters, and is kept
    # named models run in the order given, after which the other order is a new result
    req2 = DenoiseRequest(project_root=str(root), method="models", device="cpu", segment_s=60.0,
                          models=["VR-DeEchoAggressive.pth", "Kim_Vocal_2.onnx"], **MDX)
    again = list(drive("denoise", run_denoise, req2))[-1]
    assert again.data["files"] == ["take.wav"]
    got2, _ = sf.read(str(root / "audio/clean/take.wav"), dtype="float32")
    assert np.abs(got2 - backwards).max() < 2e-4


def test_dereverb_deecho_preset_and_a_missing_model(tmp_path, gsv_home):
    root = tmp_path / "p"
    _project(root)
    folder = gsv_home / "data" / "models" / "uvr5"
    _onnx_model(folder / "onnx_dereverb_By_FoxJoy" / "vocals.onnx", "identity")
    ev = list(drive("denoise", run_denoise, DenoiseRequest(
        project_root=str(root), method="models", preset="seed-recipe", **MDX)))
    assert isinstance(ev[-1], Failed) and "an MDX-Net vocal model" in ev[-1].reason
    save_vr(folder / "VR-DeEchoNormal.pth", "new")
    ok = list(drive("denoise", run_denoise, DenoiseRequest(
        project_root=str(root), method="mdx", preset="dereverb-deecho", device="cpu", **MDX)))
    assert ok[-1].data["models"] == ["vocals.onnx", "VR-DeEchoNormal.pth"]
    ev = list(drive("denoise", run_denoise, DenoiseRequest(
        project_root=str(root), method="models", preset="roformer-vocals")))
    assert isinstance(ev[-1], Failed) and "RoFormer" in ev[-1].reason and ev[-1].hint
