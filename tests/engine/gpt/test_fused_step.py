"""The whole-step CPU kernel (engine/models/gpt/cpu_step.py) that exact and bf16 decoding
steps run on x86: upstream's fixture tokens, thread-count independence, and the torch path
it replaces."""
from __future__ import annotations

import copy
import platform

import numpy as np
import pytest
import torch

from engine.models.gpt import DecodeOptions, Sampling, cpu_step, decode
from engine.models.gpt.precision import matmuls
from tests.engine.gpt.conftest import golden

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64",
                                reason="the fused step is built for x86 CPUs only")


def _greedy(precision: str = "model", penalty: float = 1.35, **kw) -> DecodeOptions:
    return DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=penalty),
                         precision=precision, **kw)


def _run(model, inputs, opts):
    return decode(model, inputs["gpt_x"], inputs["gpt_bert"], inputs["gpt_prompt"], opts)


def test_the_kernel_builds_and_the_exact_path_uses_it(small_model):
    assert cpu_step.kernel() is not None, "x86 with g++ and ninja: the kernel must build"
    mm = matmuls(small_model, "model")
    assert mm is not None and mm.step is not None and mm.cache_dtype == torch.float32
    assert matmuls(small_model, "bf16").step is not None


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_exact_tokens_and_logits_do_not_depend_on_the_thread_count(small_model, inputs,
                                                                   threads):
    """Each output row is summed by one thread in one order, so more threads give the same
    logits bit for bit (3 threads on a 2-core box: threads wait on each other's chunks)."""
    opts = _greedy(max_new_tokens=120, min_steps_before_eos=120, keep_logits=True)
    one = _run(small_model, inputs, opts)
    torch.set_num_threads(threads)  # the conftest fixture puts 1 back afterwards
    many = _run(small_model, inputs, opts)
    assert torch.equal(many.tokens, one.tokens)
    assert torch.equal(many.logits, one.logits)
    assert len(one.tokens) == 120


@pytest.mark.parametrize("penalty", [1.0, 1.35])
def test_fused_and_torch_exact_paths_both_keep_upstreams_tokens(small_model, inputs, penalty,
                                                                 monkeypatch):
    g = golden(f"gpt_greedy_rp{round(penalty * 100)}")
    opts = _greedy(penalty=penalty, early_stop=39, keep_logits=True)
    fused = _run(small_model, inputs, opts)
    monkeypatch.setattr(cpu_step, "kernel", lambda: None)
    plain_model = copy.deepcopy(small_model)  # nothing built for it yet
    assert matmuls(plain_model, "model") is None  # torch's per-layer path
    plain = _run(plain_model, inputs, opts)
    for r in (fused, plain):
        np.testing.assert_array_equal(torch.cat([inputs["gpt_prompt"][0], r.tokens]).numpy(),
                                      g["y"][0])
    # Same fp32 maths in another summation order: logits agree to rounding, not bit for bit.
    torch.testing.assert_close(fused.logits, plain.logits, atol=2e-5, rtol=1e-5)


def test_a_batch_and_the_prompt_keep_the_layer_path(small_model, inputs):
    """decode_batch (several rows, padding masks) never reaches the one-row kernel; its
    single rows give the same tokens as decode's fused steps."""
    from engine.models.gpt import decode_batch
    lens = inputs["gpt_batch_x_lens"].tolist()
    phones = [inputs["gpt_batch_x"][i, :n] for i, n in enumerate(lens)]
    bert = [inputs["gpt_batch_bert"][i, :, :n] for i, n in enumerate(lens)]
    opts = _greedy(max_new_tokens=20, min_steps_before_eos=20)
    batch = decode_batch(small_model, phones, bert, inputs["gpt_prompt"][0], opts)
    for i in range(len(lens)):
        alone = decode(small_model, phones[i][None], bert[i][None], inputs["gpt_prompt"], opts)
        assert torch.equal(batch.rows[i].tokens, alone.tokens)


@pytest.mark.parametrize("penalty", [1.0, 1.35])
def test_fused_bf16_steps_stay_within_the_torch_bf16_paths_error(small_model, inputs, penalty,
                                                                  monkeypatch):
    """The fused bf16 step follows the torch bf16 path's rounding (products rounded to bf16,
    bf16 biases, flash-style softmax with bf16 probabilities); over upstream's 40 fixture
    steps its logits are no further from exact than that path's (measured: 1.0-1.1x)."""
    opts = _greedy("bf16", penalty=penalty, early_stop=39, keep_logits=True)
    exact = _run(small_model, inputs, _greedy(penalty=penalty, early_stop=39, keep_logits=True))
    fused = _run(small_model, inputs, opts)
    monkeypatch.setattr(cpu_step, "kernel", lambda: None)
    plain_model = copy.deepcopy(small_model)
    assert matmuls(plain_model, "bf16").step is None
    plain = _run(plain_model, inputs, opts)
    assert torch.equal(fused.tokens, exact.tokens) and torch.equal(plain.tokens, exact.tokens)
    # logits[0] comes from the prompt (torch path in both); the rest from decoding steps
    err = {k: (r.logits[1:] - exact.logits[1:]).abs() for k, r in (("fused", fused),
                                                                   ("plain", plain))}
    assert float(err["fused"].max()) <= 1.25 * float(err["plain"].max())
    assert float(err["fused"].mean()) <= 1.25 * float(err["plain"].mean())
    assert float(err["fused"].mean()) > 0  # bf16 really ran


def test_fused_bf16_products_equal_the_torch_bf16_gemv(small_model):
    """Each bf16 product of the fused step (its row kernel, here through its one-matrix
    entry) gives the torch bf16 path's GEMV output bit for bit, at 1 and 2 threads."""
    from engine.models.gpt import bf16_gemv
    old = bf16_gemv.kernel()
    if old is None:
        pytest.skip("the torch bf16 path's GEMV needs AVX512-BF16")
    k = cpu_step.kernel()
    layer = small_model.h.layers[0]
    g = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        for lin in (layer.linear1, layer.linear2, layer.self_attn.out_proj):
            w = lin.weight.detach().to(torch.bfloat16).contiguous()
            b = lin.bias.detach().to(torch.bfloat16)
            x = torch.randn(1, 1, w.shape[1], generator=g)
            want = old(x, w, b).float().reshape(1, -1)
            for threads in (1, 2):
                assert torch.equal(k.gemv(x, w, b.float().contiguous(), threads), want)
