"""Export in upstream's format and naming, reload through our upstream-format reader, and
refuse files that are not SoVITS v1/v2 generators with a sentence."""
from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict

import pytest
import torch

from engine.models.sovits.checkpoint import (SovitsFileError, export_sovits, load_sovits,
                                             read_sovits_file, upstream_version_guess)
from engine.models.sovits.config import SovitsConfig, tiny_config
from engine.models.sovits.synthesizer import Synthesizer

from .conftest import FIXTURES, assert_close, golden


def test_export_layout_and_reload_equal_fp16(upstream_small_model, tmp_path, inputs):
    path = export_sovits(upstream_small_model, tmp_path / "SoVITS_weights_v2", "alice", 3, 42)
    assert path.name == "alice_e3_s42.pth"
    raw = path.read_bytes()
    assert raw[:2] == b"PK" and zipfile.is_zipfile(path)  # v1/v2: no two-byte header
    plain = torch.load(path, weights_only=True)  # loadable by anyone, no custom classes
    assert list(plain) == ["weight", "config", "info"]
    assert plain["info"] == "3epoch_42iteration"
    assert not any("enc_q" in k for k in plain["weight"])
    assert all(v.dtype == torch.float16 for v in plain["weight"].values())
    cfg = plain["config"]
    assert cfg["model"]["inter_channels"] == 16 and cfg["data"]["filter_length"] == 2048
    assert cfg["train"]["segment_size"] == 20480 and cfg["version"] == "v2"
    f = read_sovits_file(path)
    sd = upstream_small_model.state_dict()
    for k, v in f.weights.items():
        assert torch.equal(v, sd[k].half()), k
    codes, text = torch.from_numpy(inputs["codes"]), torch.from_numpy(inputs["text"])
    spec = torch.from_numpy(golden("sovits_spectrogram")["spec"])
    m = load_sovits(path, expect_version="v2")
    assert_close(m.decode(codes, text, [spec], noise_scale=0.0), golden("sovits_decode_ns0")["audio"])


def test_full_size_export_is_classified_v2_by_upstream_rules(tmp_path):
    torch.manual_seed(0)
    path = export_sovits(Synthesizer(SovitsConfig()), tmp_path, "big", 1, 1)
    assert upstream_version_guess(path) == ("v2", False)
    assert abs(path.stat().st_size - 84_998_147) < 200_000  # upstream's full-size export size
    assert len(read_sovits_file(path).weights) == 673


def _save(obj, path):
    torch.save(obj, path)
    return path


def test_refuses_gpt_weights():
    with pytest.raises(SovitsFileError, match="GPT"):
        read_sovits_file(FIXTURES / "gpt_v2_small-e1.ckpt")


def test_refuses_non_torch_file(tmp_path):
    p = tmp_path / "notes.pth"
    p.write_bytes(b"hello, this is not a model")
    with pytest.raises(SovitsFileError, match="not a torch checkpoint"):
        read_sovits_file(p)


def test_refuses_pro_header_with_version_sentence(tmp_path, upstream_small_pth):
    p = tmp_path / "pro.pth"
    p.write_bytes(b"05" + upstream_small_pth.read_bytes()[2:])
    with pytest.raises(SovitsFileError, match="v2Pro"):
        read_sovits_file(p)
    assert upstream_version_guess(p) == ("v2Pro", False)


def test_refuses_discriminator(tmp_path):
    d = {"discriminators.0.convs.0.bias": torch.zeros(2)}
    p = _save({"model": d, "iteration": 1, "optimizer": {}, "learning_rate": 1e-4}, tmp_path / "D_1.pth")
    with pytest.raises(SovitsFileError, match="discriminator"):
        read_sovits_file(p)


def test_refuses_other_project_version(tmp_path):
    p = export_sovits(Synthesizer(tiny_config("v1")), tmp_path, "v1model", 1, 1)
    assert read_sovits_file(p).version == "v1"
    with pytest.raises(SovitsFileError, match="v1 model but this project uses v2"):
        read_sovits_file(p, expect_version="v2")


class _Evil:
    def __reduce__(self):
        return (open, ("/tmp/gsv-evil-marker", "w"))


def test_never_runs_pickled_code(tmp_path):
    buf = io.BytesIO()
    torch.save({"weight": {"x": torch.zeros(1)}, "config": _Evil()}, buf, pickle_module=pickle)
    p = tmp_path / "evil.pth"
    p.write_bytes(buf.getvalue())
    marker = __import__("pathlib").Path("/tmp/gsv-evil-marker")
    marker.unlink(missing_ok=True)
    with pytest.raises(SovitsFileError, match="safely"):
        read_sovits_file(p)
    assert not marker.exists()


def test_reads_upstream_training_checkpoint_layout(tmp_path):
    torch.manual_seed(1)
    model = Synthesizer(tiny_config())
    ckpt = OrderedDict(model=model.state_dict(), iteration=7, optimizer={}, learning_rate=1e-4)
    p = _save(ckpt, tmp_path / "G_70.pth")
    f = read_sovits_file(p)
    assert f.kind == "train" and any(k.startswith("enc_q.") for k in f.weights)
