"""Denoise: the built-in spectral gate on speech plus white noise, and the MDX-Net ONNX path
with tiny models the test builds (identity, and a random 1×1 convolution)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio.denoise_step import DenoiseRequest, run_denoise
from engine.audio.mdx import MDX_SR, MdxModel
from engine.audio.spectral_gate import GateParams, gate_blocks, learn_noise
from engine.events import Failed, Result
from engine.layout import Layout
from engine.runner import drive

from .conftest import SR


def _noisy(clean: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    n = np.random.default_rng(seed).standard_normal(clean.size).astype(np.float32)
    n *= np.sqrt((clean ** 2).mean() / (n ** 2).mean() / 10 ** (snr_db / 10))
    return (clean + n).astype(np.float32)


def _snr(ref: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10((ref ** 2).sum() / ((est - ref) ** 2).sum()))


def _blocks(x: np.ndarray, n: int = 40000):
    x = x[:, None] if x.ndim == 1 else x
    return (x[i:i + n] for i in range(0, x.shape[0], n))


@pytest.fixture(scope="module")
def clean(speech_with_gaps) -> np.ndarray:
    return speech_with_gaps.audio[: 12 * SR] * 0.8


def test_spectral_gate_raises_snr_and_keeps_speech(clean):
    x = _noisy(clean, 10)
    params = GateParams()
    profile = learn_noise(lambda: _blocks(x), SR, params)
    y = np.concatenate(list(gate_blocks(_blocks(x), SR, profile, params)))[:, 0]
    assert y.shape == x.shape
    assert _snr(clean, y) - _snr(clean, x) > 4.0
    speech = np.abs(clean) > 0.02
    kept = (y[speech] * clean[speech]).sum() / (clean[speech] ** 2).sum()
    assert kept > 0.85  # projection on the clean speech: little of the voice removed


def test_spectral_gate_segments_do_not_change_the_result(clean):
    x = _noisy(clean, 10)
    params = GateParams()
    profile = learn_noise(lambda: _blocks(x), SR, params)
    whole = np.concatenate(list(gate_blocks(_blocks(x, 10 ** 7), SR, profile, params, seg_s=60)))
    parts = np.concatenate(list(gate_blocks(_blocks(x, 7777), SR, profile, params, seg_s=1.3)))
    assert np.abs(whole - parts).max() < 1e-4


def _onnx_model(path: Path, kind: str, dim_f: int = 128, dim_t: int = 16) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape = [1, 4, dim_f, dim_t]
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)
    if kind == "identity":
        nodes, inits = [helper.make_node("Identity", ["input"], ["output"])], []
    else:
        w = np.random.default_rng(1).standard_normal((4, 4, 1, 1)).astype(np.float32) * 0.3
        inits = [numpy_helper.from_array(w, "w")]
        nodes = [helper.make_node("Conv", ["input", "w"], ["output"])]
    graph = helper.make_graph(nodes, "tiny_mdx", [inp], [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _project_with_raw(root: Path, audio: np.ndarray, sr: int, name: str = "take.wav") -> Path:
    raw = Layout(root, "x").raw_dir
    raw.mkdir(parents=True)
    sf.write(str(raw / name), audio, sr, subtype="FLOAT")
    return raw / name


def test_mdx_identity_model_reconstructs_the_input(tmp_path):
    t = np.arange(int(2.5 * MDX_SR)) / MDX_SR
    x = np.stack([0.3 * np.sin(2 * np.pi * 330 * t), 0.2 * np.sin(2 * np.pi * 550 * t)], 1)
    model = MdxModel(_onnx_model(tmp_path / "id.onnx", "identity"), n_fft=256, hop=64,
                     output="target")
    assert (model.spec.chunk, model.spec.gen) == (960, 704)
    y = np.concatenate(list(model.stream(_blocks(x.astype(np.float32), 5000))))
    assert y.shape == x.shape and np.abs(y - x).max() < 1e-3
    residual = MdxModel(tmp_path / "id.onnx", n_fft=256, hop=64, output="residual")
    z = np.concatenate(list(residual.stream(_blocks(x.astype(np.float32), 3000))))
    assert np.abs(z).max() < 1e-3


def test_mdx_chain_runs_on_a_project(tmp_path, clean, gsv_home):
    root = tmp_path / "p"
    src = _project_with_raw(root, clean[: 4 * SR], SR)
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    folder = gsv_home / "data" / "models" / "uvr5"
    _onnx_model(folder / "onnx_dereverb_By_FoxJoy" / "vocals.onnx", "conv")
    _onnx_model(folder / "tiny-deecho.onnx", "identity")
    req = DenoiseRequest(project_root=str(root), method="mdx", preset="dereverb-deecho",
                         mdx_n_fft=256, mdx_hop=64, keep_other=True)
    events = list(drive("denoise", run_denoise, req))
    result = events[-1]
    assert isinstance(result, Result), result
    assert result.data["models"] == ["vocals.onnx", "tiny-deecho.onnx"]
    out, sr = sf.read(str(root / "audio/clean/take.wav"), dtype="float32")
    assert sr == MDX_SR and out.ndim == 1 and abs(out.shape[0] - 4 * MDX_SR) <= 1
    assert np.isfinite(out).all() and np.abs(out).max() > 0
    other, _ = sf.read(str(root / "audio/clean/other/take.wav"), dtype="float32")
    assert other.shape == out.shape
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before


def test_spectral_denoise_step_writes_clean_copies(tmp_path, clean):
    root = tmp_path / "p"
    _project_with_raw(root, np.stack([_noisy(clean, 10)] * 2, 1), SR, "stereo take.wav")
    events = list(drive("denoise", run_denoise, DenoiseRequest(project_root=str(root))))
    assert isinstance(events[-1], Result), events[-1]
    out, sr = sf.read(str(root / "audio/clean/stereo take.wav"), dtype="float32")
    assert sr == SR and out.shape == (clean.size, 2)
    assert _snr(clean, out[:, 0]) > 13
    again = list(run_denoise(DenoiseRequest(project_root=str(root))))[-1]
    assert again.data["files"] == [] and again.data["kept"] == ["stereo take.wav"]
    other = list(run_denoise(DenoiseRequest(project_root=str(root), strength=0.5)))[-1]
    assert other.data["files"] == ["stereo take.wav"]


def test_mdx_errors_say_what_to_do(tmp_path):
    root = tmp_path / "p"
    _project_with_raw(root, np.zeros(SR, np.float32), SR)
    ev = list(drive("denoise", run_denoise, DenoiseRequest(project_root=str(root), method="mdx")))
    assert isinstance(ev[-1], Failed) and "ONNX" in ev[-1].reason and ev[-1].hint
    bad = tmp_path / "bad.onnx"
    bad.write_text("not a model")
    ev = list(drive("denoise", run_denoise, DenoiseRequest(
        project_root=str(root), method="mdx", models=[str(bad)])))
    assert isinstance(ev[-1], Failed) and "Cannot load bad.onnx" in ev[-1].reason
    ev = list(drive("denoise", run_denoise, DenoiseRequest(project_root=str(tmp_path / "none"))))
    assert isinstance(ev[-1], Failed) and "import" in ev[-1].hint
