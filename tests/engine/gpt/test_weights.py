"""Exporting GPT weights in upstream's layout, reloading them, and refusing wrong files."""
from __future__ import annotations

import dataclasses
import json
import pathlib

import pytest
import torch

from engine.events import StepError
from engine.models.gpt import GptConfig, Text2Semantic, export_gpt, load_gpt
from tests.engine.gpt.conftest import MANIFEST

TINY = GptConfig(embedding_dim=16, hidden_dim=16, head=2, linear_units=64, n_layer=1)


@dataclasses.dataclass
class NotAllowed:  # any custom class in a pickle must be refused by weights_only loading
    x: int = 1


def test_export_reload_is_equal_and_follows_upstream_layout(tmp_path, small_ckpt):
    src = load_gpt(small_ckpt)
    path = export_gpt(src.model, tmp_path / "GPT_weights_v2", "my-voice", 7, src.full_config)
    assert path.name == "my-voice-e7.ckpt"
    assert path.read_bytes()[:2] == b"PK"
    raw = torch.load(path, weights_only=True)
    upstream = torch.load(small_ckpt, weights_only=True)
    assert list(raw) == ["weight", "config", "info"] and raw["info"] == "GPT-e7"
    assert list(raw["weight"]) == list(upstream["weight"])  # same keys, same order
    assert all(v.dtype == torch.float16 for v in raw["weight"].values())
    for k, v in upstream["weight"].items():  # fp16 in, fp16 out: bit-identical
        assert torch.equal(raw["weight"][k], v), k
    assert raw["config"]["model"] == upstream["config"]["model"]
    again = load_gpt(path)
    for (k, a), (_, b) in zip(src.model.state_dict().items(), again.model.state_dict().items()):
        assert torch.equal(a, b), k


def test_export_of_fresh_model_writes_a_loadable_config(tmp_path):
    torch.manual_seed(0)
    model = Text2Semantic(TINY)
    path = export_gpt(model, tmp_path, "v", 1)
    cfg = torch.load(path, weights_only=True)["config"]
    assert cfg["data"]["max_sec"] == 54 and cfg["model"]["n_layer"] == 1
    w = load_gpt(path)
    for (k, a), (_, b) in zip(model.state_dict().items(), w.model.state_dict().items()):
        assert torch.equal(a.half().float(), b), k


@pytest.mark.parametrize("make,words", [
    (lambda p: p.write_text("hello"), "not a PyTorch checkpoint"),
    (lambda p: torch.save({"weight": {"enc_p.text_embedding.weight": torch.zeros(2)},
                           "config": {"model": {}}, "info": "1epoch"}, p), "SoVITS"),
    (lambda p: torch.save({"weight": {"model.ar_x": torch.zeros(1)}, "config": NotAllowed()}, p),
     "could not be read safely"),
    (lambda p: torch.save([1, 2], p), "not a GPT checkpoint"),
    (lambda p: torch.save({"weight": {"model.ar_predict_layer.weight": torch.zeros(1025, 16)},
                           "config": {"model": dataclasses.asdict(TINY)}}, p), "does not match"),
])
def test_wrong_files_are_refused_with_a_sentence(tmp_path, make, words):
    path = tmp_path / "thing.ckpt"
    make(path)
    with pytest.raises(StepError) as err:
        load_gpt(path)
    assert words in err.value.reason and err.value.hint
    assert err.value.reason.endswith(".")


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(StepError, match="Cannot read"):
        load_gpt(tmp_path / "nope.ckpt")


def test_lightning_training_checkpoint_loads_for_resume(tmp_path, small_ckpt):
    """Upstream's s1_train writes Lightning checkpoints (state_dict + hyper-parameters)."""
    src = torch.load(small_ckpt, weights_only=True)
    lightning = {"epoch": 3, "global_step": 120, "pytorch-lightning_version": "2.4.0",
                 "state_dict": {k: v.float() for k, v in src["weight"].items()},
                 "hyper_parameters": {"config": src["config"],
                                      "output_dir": pathlib.PosixPath("logs/x/logs_s1_v2")},
                 "optimizer_states": [], "lr_schedulers": []}
    path = tmp_path / "epoch=3-step=120.ckpt"
    torch.save(lightning, path)
    w = load_gpt(path)
    assert w.info == "epoch=3-step=120" and w.config.n_layer == 2
    assert torch.equal(w.model.bert_proj.weight, src["weight"]["model.bert_proj.weight"].float())


def test_full_size_export_matches_the_upstream_manifest(tmp_path):
    """A full-size random model, exported, has upstream's file layout tensor for tensor."""
    manifest = json.loads(MANIFEST.read_text())
    torch.manual_seed(0)
    model = Text2Semantic(GptConfig.from_upstream(manifest["config_model"]))
    path = export_gpt(model, tmp_path, "ref_gpt", 1)
    del model
    raw = torch.load(path, weights_only=True, mmap=True)
    assert list(raw) == manifest["top_level_order"] and raw["info"] == "GPT-e1"
    got = [(k, list(v.shape), str(v.dtype).replace("torch.", "")) for k, v in raw["weight"].items()]
    want = [(t["key"], t["shape"], t["dtype"]) for t in manifest["tensors"]]
    assert got == want
    assert raw["config"]["model"] == manifest["config_model"]
    assert path.read_bytes()[:2] == b"PK"
    assert abs(path.stat().st_size - manifest["file_size_bytes"]) < 0.001 * manifest["file_size_bytes"]
