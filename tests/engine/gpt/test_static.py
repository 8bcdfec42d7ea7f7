"""The fixed-shape decoding step (engine/models/gpt/static_step.py, static_decode.py), run on
the CPU without graphs: it must pick the exact loop's greedy tokens (upstream's fixtures,
batches, stop rules, the full-size random model) and keep seeded draws identical."""
from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.models.gpt import DecodeOptions, GptConfig, Sampling, Text2Semantic, decode
from engine.models.gpt.batch import decode_batch
from engine.models.gpt.static_decode import resolve
from engine.models.gpt.static_step import WINDOW, window_for
from tests.engine.gpt.conftest import golden

TOL = dict(atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name,penalty", [("gpt_greedy_rp100", 1.0), ("gpt_greedy_rp135", 1.35)])
def test_static_step_reproduces_upstream_greedy_tokens(small_model, inputs, name, penalty):
    g = golden(name)
    opts = DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=penalty),
                         early_stop=39, keep_logits=True, static="static")
    r = decode(small_model, inputs["gpt_x"], inputs["gpt_bert"], inputs["gpt_prompt"], opts)
    assert r.stop == "early_stop" and r.steps == int(g["idx"][0])
    y = torch.cat([inputs["gpt_prompt"][0], r.tokens]).numpy()
    np.testing.assert_array_equal(y, g["y"][0])
    np.testing.assert_allclose(r.logits.numpy(), g["step_logits"], **TOL)
    exact = decode(small_model, inputs["gpt_x"], inputs["gpt_bert"], inputs["gpt_prompt"],
                   replace(opts, static="off"))
    # Only the masked window's reduction order differs: logits agree to a few ulps.
    torch.testing.assert_close(r.logits, exact.logits, atol=1e-5, rtol=1e-5)


def test_static_batch_reproduces_upstream_batch_infer(small_model, inputs):
    g = golden("gpt_batchinfer_rp135")
    lens = inputs["gpt_batch_x_lens"].tolist()
    r = decode_batch(small_model, [inputs["gpt_batch_x"][i, :n] for i, n in enumerate(lens)],
                     [inputs["gpt_batch_bert"][i, :, :n] for i, n in enumerate(lens)],
                     inputs["gpt_prompt"][0],
                     DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35),
                                   early_stop=39, keep_logits=True, static="static"))
    assert r.rows_per_step == g["rows_per_step"].tolist()
    np.testing.assert_allclose(r.logits.numpy(), g["step_logits"], **TOL)
    for row, want, idx in zip(r.rows, (g["y0"], g["y1"]), g["idx"]):
        assert row.steps == idx and row.stop == "early_stop"
        y = torch.cat([inputs["gpt_prompt"][0], row.tokens]).numpy()
        np.testing.assert_array_equal(y[:-1], want)


def test_static_batch_rows_end_at_their_own_eos_like_the_exact_loop(small_model, inputs):
    """Rows stay in the fixed-shape batch after their EOS; each still gets its own tokens,
    and the windows are crossed (more than WINDOW slots decoded)."""
    model = copy.deepcopy(small_model)
    with torch.no_grad():  # EOS likelier, so rows end at different steps
        model.ar_predict_layer.weight[model.cfg.EOS] *= 2.5
    opts = DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35), max_new_tokens=300)
    rows = [(inputs["gpt_batch_x"][i, :n], inputs["gpt_batch_bert"][i, :, :n])
            for i, n in enumerate(inputs["gpt_batch_x_lens"].tolist())]
    rows += [(inputs["gpt_x"][0, :9], inputs["gpt_bert"][0, :, :9])]
    args = ([r[0] for r in rows], [r[1] for r in rows], inputs["gpt_prompt"][0])
    got = decode_batch(model, *args, replace(opts, static="static"))
    want = decode_batch(model, *args, replace(opts, static="off"))
    assert got.rows_per_step == want.rows_per_step and got.rows_per_step[-1] < 3
    for a, b in zip(got.rows, want.rows):
        assert (a.stop, a.steps) == (b.stop, b.steps) and torch.equal(a.tokens, b.tokens)


def test_static_crosses_attention_windows_with_the_exact_tokens(small_model, inputs):
    """300 greedy tokens after a 54-slot prompt cross from the first WINDOW into the second,
    alone and in a left-padded batch."""
    opts = DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35),
                         max_new_tokens=300, min_steps_before_eos=300)
    assert 24 + 30 + 300 > WINDOW
    args = (small_model, inputs["gpt_x"], inputs["gpt_bert"], inputs["gpt_prompt"])
    one = decode(*args, replace(opts, static="static"))
    assert torch.equal(one.tokens, decode(*args, replace(opts, static="off")).tokens)
    lens = inputs["gpt_batch_x_lens"].tolist()
    rows = ([inputs["gpt_batch_x"][i, :n] for i, n in enumerate(lens)],
            [inputs["gpt_batch_bert"][i, :, :n] for i, n in enumerate(lens)],
            inputs["gpt_prompt"][0])
    got = decode_batch(small_model, *rows, replace(opts, static="static"))
    want = decode_batch(small_model, *rows, replace(opts, static="off"))
    for a, b in zip(got.rows, want.rows):
        assert len(a.tokens) == 300 and torch.equal(a.tokens, b.tokens)


def test_static_sampling_draws_the_same_seeded_tokens(small_model, inputs):
    args = (small_model, inputs["gpt_x"], inputs["gpt_bert"], inputs["gpt_prompt"])
    opts = DecodeOptions(sampling=Sampling(top_k=15, top_p=0.9, temperature=0.8),
                         max_new_tokens=40, seed=7)
    assert torch.equal(decode(*args, replace(opts, static="static")).tokens,
                       decode(*args, replace(opts, static="off")).tokens)


@pytest.mark.parametrize("static", ["off", "static"])
def test_per_row_seeds_give_each_row_its_solo_draws(small_model, inputs, static):
    """decode_batch(seeds=...) draws row i from its own generator: a sampled batch gives each
    piece the tokens it gets alone with that seed (synthesis keeps seed + i per piece)."""
    opts = DecodeOptions(sampling=Sampling(top_k=15, temperature=0.9), max_new_tokens=40,
                         static=static)
    lens = inputs["gpt_batch_x_lens"].tolist()
    ph = [inputs["gpt_batch_x"][i, :n] for i, n in enumerate(lens)]
    bt = [inputs["gpt_batch_bert"][i, :, :n] for i, n in enumerate(lens)]
    got = decode_batch(small_model, ph, bt, inputs["gpt_prompt"][0], opts, seeds=[11, 12])
    for i, row in enumerate(got.rows):
        alone = decode(small_model, ph[i].view(1, -1), bt[i].unsqueeze(0), inputs["gpt_prompt"],
                       replace(opts, seed=11 + i))
        assert torch.equal(row.tokens, alone.tokens)
    assert not torch.equal(got.rows[0].tokens[:20], got.rows[1].tokens[:20])


def test_modes_and_windows():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve("auto", cpu) == "off" and resolve("auto", cuda) == "graph"
    assert resolve("static", cpu) == "static" and resolve("off", cuda) == "off"
    with pytest.raises(ValueError, match="CUDA"):
        resolve("graph", cpu)
    with pytest.raises(ValueError, match="static must be"):
        resolve("fast", cpu)
    assert [window_for(s, 600) for s in (0, 255, 256, 511, 599)] == [256, 256, 512, 512, 600]


@pytest.mark.slow  # two 300-token decodes of the 77.6 M-weight model, one thread: 20-47 s (load 1-7)
def test_static_equals_exact_on_300_tokens_of_the_full_size_model():
    """The issue's check: 30 phonemes, a 150-token prompt, 300 greedy tokens (EOS kept out,
    as bench/gpt_decode.py does), full-size random weights; the static path crosses two
    windows (180 -> 480 slots)."""
    torch.manual_seed(0)
    model = Text2Semantic(GptConfig()).eval()
    g = torch.Generator().manual_seed(1)
    phones = torch.randint(0, 732, (1, 30), generator=g)
    bert = torch.randn(1, 1024, 30, generator=g) * 0.1
    prompt = torch.randint(0, 1024, (1, 150), generator=g)
    opts = DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35),
                         max_new_tokens=300, min_steps_before_eos=300)
    exact = decode(model, phones, bert, prompt, replace(opts, static="off"))
    static = decode(model, phones, bert, prompt, replace(opts, static="static"))
    assert len(exact.tokens) == 300 and exact.stop == static.stop == "cap"
    assert torch.equal(static.tokens, exact.tokens)


def test_graph_runners_are_kept_per_model_and_rebuilt_when_stale(small_model):
    """CUDA graphs bake in addresses: the runner (cache + graphs) is reused across decodes of
    one model and rebuilt when a longer cache is needed or a parameter was replaced. (The
    capture itself needs CUDA: bench/gpu_check.py runs it when a GPU is lent.)"""
    from engine.models.gpt.graph import runner_for

    model = copy.deepcopy(small_model)
    f32 = torch.float32
    first = runner_for(model, 1, 300, f32, None, "model", graphs=True)
    assert first.step.capacity == 2 * WINDOW and first.captures == 0
    assert runner_for(model, 1, 280, f32, None, "model", graphs=True) is first
    assert runner_for(model, 1, 300, f32, None, "model", graphs=False) is not first
    longer = runner_for(model, 1, 600, f32, None, "model", graphs=True)
    assert longer is not first and longer.step.capacity == 3 * WINDOW
    model.ar_predict_layer.weight = torch.nn.Parameter(model.ar_predict_layer.weight.clone())
    assert runner_for(model, 1, 600, f32, None, "model", graphs=True) is not longer
    two = runner_for(model, 2, 600, f32, None, "model", graphs=True)
    assert two.step.cache.k[0].shape[0] == 2
    assert all(not t.any() for t in two.step.cache.k + two.step.cache.v)  # never NaN garbage


def test_static_reference_free_decoding_stops_at_the_cap_like_the_exact_loop(small_model, inputs):
    opts = DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35), max_new_tokens=25,
                         min_steps_before_eos=25)
    args = (small_model, inputs["gpt_x"], inputs["gpt_bert"], None)
    got, want = decode(*args, replace(opts, static="static")), decode(*args, opts)
    assert (got.stop, got.steps, len(got.tokens)) == ("cap", 24, 25)
    assert torch.equal(got.tokens, want.tokens)
