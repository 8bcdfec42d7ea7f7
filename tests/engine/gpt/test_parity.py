"""Our GPT against upstream's own outputs on the shared fixtures (random small weights)."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.models.gpt import DecodeOptions, GptConfig, Sampling, Text2Semantic, decode, load_gpt
from engine.models.gpt.batch import decode_batch
from tests.engine.gpt.conftest import MANIFEST, golden

TOL = dict(atol=1e-4, rtol=1e-4)


def top3_accuracy(logits: torch.Tensor, targets: torch.Tensor, eos: int) -> float:
    keep = targets != eos
    top = logits.topk(3, dim=-1).indices
    hit = (top == targets.unsqueeze(-1)).any(-1)
    return float(hit[keep].float().mean()) if keep.any() else 0.0


def test_full_size_model_matches_manifest_key_for_key():
    manifest = json.loads(MANIFEST.read_text())
    cfg = GptConfig.from_upstream(manifest["config_model"])
    with torch.device("meta"):  # shapes only: no 300 MB allocation
        model = Text2Semantic(cfg)
    ours = [("model." + k, list(v.shape)) for k, v in model.state_dict().items()]
    theirs = [(t["key"], t["shape"]) for t in manifest["tensors"]]
    assert ours == theirs  # same keys, same shapes, same order
    assert sum(p.numel() for p in model.parameters()) == manifest["num_elements"] == 77_606_402


def test_fixture_checkpoint_loads_strictly(small_ckpt):
    w = load_gpt(small_ckpt)
    assert w.info == "GPT-e1"
    assert w.config.n_layer == 2 and w.config.hidden_dim == 128
    raw = torch.load(small_ckpt, weights_only=True)["weight"]
    for k, v in w.model.state_dict().items():
        assert torch.equal(v, raw["model." + k].float()), k


def test_forward_batch_of_one_reproduces_upstream_logits(small_model, inputs):
    g = golden("gpt_forward_b1")
    with torch.no_grad():
        logits, targets, valid = small_model.forward_train(
            inputs["gpt_x"], torch.tensor([24]), inputs["gpt_prompt"], torch.tensor([30]),
            inputs["gpt_bert"])
    np.testing.assert_allclose(logits.numpy(), g["logits"], **TOL)
    loss = F.cross_entropy(logits.transpose(1, 2), targets, reduction="sum")
    np.testing.assert_allclose(loss.item(), g["loss"][0], rtol=1e-5)
    assert top3_accuracy(logits, targets, 1024) == pytest.approx(float(g["acc"][0]), abs=1e-6)
    assert valid.all()


def test_forward_padded_batch_reproduces_upstream_with_its_mask(small_model, inputs):
    g = golden("gpt_forward_b2")
    args = (inputs["gpt_batch_x"], inputs["gpt_batch_x_lens"], inputs["gpt_batch_y"],
            inputs["gpt_batch_y_lens"], inputs["gpt_batch_bert"])
    with torch.no_grad():
        logits, targets, _ = small_model.forward_train(*args, upstream_mask=True)
        fixed, _, valid = small_model.forward_train(*args)
    np.testing.assert_allclose(logits.numpy(), g["logits"], **TOL)
    loss = F.cross_entropy(logits.transpose(1, 2), targets, reduction="sum")
    np.testing.assert_allclose(loss.item(), g["loss"][0], rtol=1e-5)
    # Our mask differs only for the shorter row; the full-length row is unchanged.
    np.testing.assert_allclose(fixed[0].numpy(), g["logits"][0], **TOL)
    assert not np.allclose(fixed[1].numpy(), g["logits"][1], atol=1e-3)
    assert valid[1].sum() == 23 and valid[0].all()  # 22 codes + EOS; pads do not count


@pytest.mark.parametrize("name,penalty", [("gpt_greedy_rp100", 1.0), ("gpt_greedy_rp135", 1.35)])
def test_greedy_decoding_reproduces_upstream_tokens(small_model, inputs, name, penalty):
    g = golden(name)
    opts = DecodeOptions(sampling=Sampling(top_k=1, top_p=1.0, temperature=1.0,
                                           repetition_penalty=penalty),
                         early_stop=39, keep_logits=True)
    r = decode(small_model, inputs["gpt_x"], inputs["gpt_bert"], inputs["gpt_prompt"], opts)
    assert r.stop == "early_stop" and r.steps == int(g["idx"][0])
    y = torch.cat([inputs["gpt_prompt"][0], r.tokens]).numpy()
    np.testing.assert_array_equal(y, g["y"][0])
    np.testing.assert_allclose(r.logits.numpy(), g["step_logits"], **TOL)


def test_batch_infer_rows_equal_single_row_decoding(small_model, inputs):
    """Upstream's batched path gives each row the tokens of the single-row path (minus the
    last token at an early stop); ours decodes rows alone and must give those tokens."""
    g = golden("gpt_batchinfer_rp135")
    lens = inputs["gpt_batch_x_lens"].tolist()
    opts = DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35), early_stop=39)
    for row, (n, want) in enumerate(zip(lens, (g["y0"], g["y1"]))):
        r = decode(small_model, inputs["gpt_batch_x"][row:row + 1, :n],
                   inputs["gpt_batch_bert"][row:row + 1, :, :n], inputs["gpt_prompt"], opts)
        y = torch.cat([inputs["gpt_prompt"][0], r.tokens]).numpy()
        np.testing.assert_array_equal(y[:-1], want)


def test_batched_decoding_reproduces_upstream_batch_infer(small_model, inputs):
    g = golden("gpt_batchinfer_rp135")
    lens = inputs["gpt_batch_x_lens"].tolist()
    r = decode_batch(small_model, [inputs["gpt_batch_x"][i, :n] for i, n in enumerate(lens)],
                     [inputs["gpt_batch_bert"][i, :, :n] for i, n in enumerate(lens)],
                     inputs["gpt_prompt"][0],
                     DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35),
                                   early_stop=39, keep_logits=True))
    assert r.rows_per_step == g["rows_per_step"].tolist()
    np.testing.assert_allclose(r.logits.numpy(), g["step_logits"], **TOL)
    for row, want, idx in zip(r.rows, (g["y0"], g["y1"]), g["idx"]):
        assert row.steps == idx and row.stop == "early_stop"
        y = torch.cat([inputs["gpt_prompt"][0], row.tokens]).numpy()
        np.testing.assert_array_equal(y[:-1], want)  # upstream's batch path drops the last


def test_batch_rows_that_end_leave_the_batch_with_their_own_tokens(small_model, inputs):
    model = copy.deepcopy(small_model)
    with torch.no_grad():  # EOS likelier, so rows end at different steps
        model.ar_predict_layer.weight[model.cfg.EOS] *= 2.5
    opts = DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35), max_new_tokens=200)
    rows = [(inputs["gpt_batch_x"][i, :n], inputs["gpt_batch_bert"][i, :, :n])
            for i, n in enumerate(inputs["gpt_batch_x_lens"].tolist())]
    rows += [(inputs["gpt_x"][0, :9], inputs["gpt_bert"][0, :, :9])]
    got = decode_batch(model, [r[0] for r in rows], [r[1] for r in rows],
                       inputs["gpt_prompt"][0], opts)
    assert got.rows_per_step[0] == 3 and got.rows_per_step[-1] < 3
    for (ph, bt), res in zip(rows, got.rows):
        alone = decode(model, ph.view(1, -1), bt.unsqueeze(0), inputs["gpt_prompt"], opts)
        assert res.stop == alone.stop == "eos"
        assert torch.equal(res.tokens, alone.tokens)
