"""The opt-in lower-precision decoding paths (bf16, int8) against the exact one."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from engine.models.gpt import DecodeOptions, Sampling, decode, decode_batch
from engine.models.gpt.precision import matmuls
from tests.engine.gpt.conftest import golden

LOW = ["bf16", "int8"]


def _greedy(precision: str, penalty: float = 1.35, **kw) -> DecodeOptions:
    return DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=penalty),
                         precision=precision, **kw)


@pytest.mark.parametrize("precision", LOW)
def test_low_precision_first_step_logits_are_close_to_exact(small_model, inputs, precision):
    args = (small_model, inputs["gpt_x"], inputs["gpt_bert"], inputs["gpt_prompt"])
    exact = decode(*args, _greedy("model", max_new_tokens=1, keep_logits=True)).logits[0]
    low = decode(*args, _greedy(precision, max_new_tokens=1, keep_logits=True)).logits[0]
    assert low.dtype == torch.float32 and low.shape == exact.shape
    err = float((low - exact).abs().max())
    assert 0 < err < {"bf16": 0.03, "int8": 0.08}[precision] * float(exact.abs().max())


@pytest.mark.parametrize("penalty", [1.0, 1.35])
@pytest.mark.parametrize("precision", LOW)
def test_low_precision_greedy_tokens_on_the_fixture(small_model, inputs, penalty, precision):
    """bf16 keeps upstream's 40 greedy tokens (measured: its first difference from the exact
    path comes after 180 and 300+ tokens); int8 keeps them too here, but with its first
    difference at token 44 (rp 1.35) that is too close to hold on every CPU, so only most."""
    g = golden(f"gpt_greedy_rp{round(penalty * 100)}")
    r = decode(small_model, inputs["gpt_x"], inputs["gpt_bert"], inputs["gpt_prompt"],
               _greedy(precision, penalty, early_stop=39))
    y = torch.cat([inputs["gpt_prompt"][0], r.tokens]).numpy()
    want = g["y"][0]
    assert len(y) == len(want)
    if precision == "bf16":
        np.testing.assert_array_equal(y, want)
    else:
        new = slice(inputs["gpt_prompt"].shape[1], None)
        assert (y[new] == want[new]).mean() >= 0.9
    # Greedy is deterministic (the head stays fp32, so no bf16 logit ties for top-k to keep).
    again = decode(small_model, inputs["gpt_x"], inputs["gpt_bert"], inputs["gpt_prompt"],
                   _greedy(precision, penalty, max_new_tokens=200, min_steps_before_eos=200))
    assert torch.equal(again.tokens[:len(r.tokens)], r.tokens)


@pytest.mark.parametrize("precision", LOW)
def test_low_precision_sampling_is_seeded_and_follows_the_stop_rules(small_model, inputs,
                                                                     precision):
    args = (small_model, inputs["gpt_x"], inputs["gpt_bert"], inputs["gpt_prompt"])
    opts = DecodeOptions(sampling=Sampling(top_k=15, temperature=0.8), max_new_tokens=30,
                         min_steps_before_eos=30, seed=7, precision=precision)
    a, b = decode(*args, opts), decode(*args, opts)
    assert torch.equal(a.tokens, b.tokens)
    assert a.stop == "cap" and a.tokens.shape == (30,) and a.tokens.dtype == torch.long
    assert int(a.tokens.max()) < small_model.cfg.EOS


@pytest.mark.parametrize("precision", LOW)
def test_low_precision_batch_runs_row_by_row_shapes(small_model, inputs, precision):
    lens = inputs["gpt_batch_x_lens"].tolist()
    r = decode_batch(small_model, [inputs["gpt_batch_x"][i, :n] for i, n in enumerate(lens)],
                     [inputs["gpt_batch_bert"][i, :, :n] for i, n in enumerate(lens)],
                     inputs["gpt_prompt"][0], _greedy(precision, max_new_tokens=12,
                                                      min_steps_before_eos=12))
    assert [len(row.tokens) for row in r.rows] == [12, 12]


def test_packed_weights_are_reused_and_rebuilt_after_a_weight_change(small_model):
    model = copy.deepcopy(small_model)
    exact = matmuls(model, "model")  # None, or the model's own products plus the fused step
    assert exact is None or (exact.step is not None and exact.cache_dtype == torch.float32)
    first = matmuls(model, "bf16")
    assert matmuls(model, "bf16") is first
    x = torch.randn(1, 1, model.cfg.hidden_dim)
    ffn1 = model.h.layers[0].linear1
    before = first.layers[0][2](x).float()
    torch.testing.assert_close(before, ffn1(x), rtol=2e-2, atol=2e-2)
    with torch.no_grad():
        ffn1.weight.mul_(2)
        ffn1.bias.mul_(2)
    again = matmuls(model, "bf16")
    assert again is not first
    torch.testing.assert_close(again.layers[0][2](x).float(), 2 * before, rtol=2e-2, atol=2e-2)
    with pytest.raises(ValueError, match="precision"):
        matmuls(model, "fp8")
    with pytest.raises(ValueError, match="fp32 model"):
        matmuls(copy.deepcopy(model).half(), "int8")


def test_bf16_gemv_kernel_matches_a_bf16_product():
    """The one-row AVX512-BF16 kernel (bf16_gemv.py) that bf16 decoding steps use where it
    builds: fp32 or bf16 input, bf16 output equal to a bf16 product up to bf16 rounding."""
    from engine.models.gpt import bf16_gemv
    if not bf16_gemv._cpu_has_avx512_bf16():
        pytest.skip("this CPU has no AVX512-BF16: the kernel is never used here")
    gemv = bf16_gemv.kernel()
    assert gemv is not None, "the CPU supports it, so the kernel must build (g++, ninja-build)"
    g = torch.Generator().manual_seed(0)
    w = (torch.randn(96, 256, generator=g) * 0.1).bfloat16()
    b = (torch.randn(96, generator=g) * 0.1).bfloat16()
    x = torch.randn(1, 1, 256, generator=g)
    want = torch.nn.functional.linear(x.bfloat16().float(), w.float(), b.float())
    for xin in (x, x.bfloat16()):
        y = gemv(xin, w, b)
        assert y.dtype == torch.bfloat16 and y.shape == (1, 1, 96)
        torch.testing.assert_close(y.float(), want, atol=2e-2, rtol=1e-2)


def test_bf16_without_our_kernels_keeps_the_fixture_tokens(small_model, inputs, monkeypatch):
    from engine.models.gpt import bf16_gemv, cpu_step
    monkeypatch.setattr(bf16_gemv, "kernel", lambda: None)  # oneDNN only
    monkeypatch.setattr(cpu_step, "kernel", lambda: None)
    g = golden("gpt_greedy_rp135")
    r = decode(copy.deepcopy(small_model), inputs["gpt_x"], inputs["gpt_bert"],
               inputs["gpt_prompt"], _greedy("bf16", 1.35, early_stop=39))
    np.testing.assert_array_equal(torch.cat([inputs["gpt_prompt"][0], r.tokens]).numpy(),
                                  g["y"][0])
