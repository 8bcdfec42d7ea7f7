"""The one dispatch by file type: .onnx → MDX-Net, .pth → VR, .ckpt + .yaml → MDXC/RoFormer;
each loads from a tiny model in its real format and exposes the Separator interface."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio.separation.base import Separator
from engine.audio.separation.families import LoadOptions, family_of, load_separator
from engine.events import StepError

from ..test_denoise import _onnx_model
from .tiny_mdxc import YAMLS, make_pair
from .tiny_vr import save_vr


@pytest.fixture(autouse=True)
def _one_thread():  # tiny models on a shared box: one intra-op thread is far faster
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_each_family_loads_from_its_file_type(tmp_path):
    onnx = _onnx_model(tmp_path / "Kim_Vocal.onnx", "identity")
    pth = save_vr(tmp_path / "VR-DeEchoNormal.pth", "new")
    arch = sorted(YAMLS)[0]
    ckpt, _ = make_pair(tmp_path, arch, name="tiny_roformer")
    x = (0.1 * np.random.default_rng(0).standard_normal((2, 44100))).astype(np.float32)
    opts = LoadOptions(device="cpu", mdx={"n_fft": 256, "hop": 64, "output": "target"})
    kinds = {}
    for path in (onnx, pth, ckpt):
        sep = load_separator(path, opts)
        assert isinstance(sep, Separator) and sep.name == path.name
        voice, rest = sep.separate(x[:, :sep.sample_rate // 2].copy())
        assert voice.shape == rest.shape == (2, sep.sample_rate // 2)
        kinds[family_of(path)] = type(sep).__name__
    assert kinds == {"mdx": "MdxSeparator", "vr": "VrSeparator", "mdxc": "MdxcSeparator"}
    # the MDX identity model gives a tone back through the common interface too (its
    # 128 of 129 bins drop only the Nyquist row)
    t = np.arange(44100) / 44100
    x = np.stack([0.3 * np.sin(2 * np.pi * 330 * t)] * 2).astype(np.float32)
    v, r = load_separator(onnx, opts).separate(x)
    assert np.abs(v - x).max() < 1e-3 and np.abs(r).max() < 1e-3


def test_unknown_types_and_missing_yaml_say_what_to_do(tmp_path):
    ckpt = tmp_path / "lonely.ckpt"
    ckpt.write_bytes(b"x")
    with pytest.raises(StepError, match="no configuration") as e:
        load_separator(ckpt)
    assert "lonely.yaml" in e.value.hint
    with pytest.raises(StepError, match="not a model file"):
        load_separator(tmp_path / "song.mp3")
