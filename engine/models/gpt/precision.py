"""The decoder's matrix products at a lower precision, for faster decoding (opt-in).

Decoding one token reads every weight once, so on a CPU it is bound by memory traffic
(77.6 M weights, 310 MB in fp32). Smaller weights are read faster:

* ``"model"`` (default): the model's own weights through ``F.linear``; exact, the mode whose
  greedy tokens the parity tests hold equal to upstream's.
* ``"bf16"``: bf16 copies of the weights prepacked for oneDNN (AMX / avx512_bf16 kernels on
  CPUs that have them; plain bf16 ``F.linear`` elsewhere). Where our AVX512-BF16 GEMV builds
  (``bf16_gemv.py``) it runs the one-row products of decoding steps instead (~1.4x faster per
  token; the prompt and batches keep oneDNN). Products, attention and the KV
  cache run in bf16; the residual stream and the layer norms stay in the model's dtype.
* ``"int8"`` (CPU only): per-output-channel symmetric int8 weights with fbgemm's dynamic
  quantised linear (inputs quantised per call to uint8); everything else in fp32. It rests
  on torch's quantised tensors, which torch 2.13 marks deprecated (to be removed in a later
  release; torchao replaces them): if they go, this mode goes or moves to torchao.

On x86 CPUs, a decoding step of one sequence runs as one C++ call over every layer
(``cpu_step.py``: all threads in one parallel region, rows of each matrix split across them)
for "model" (fp32, the model's own weights) and "bf16"; the prompt, batches and int8 keep
the per-layer torch path. ``GSV_GPT_FUSED_STEP=0`` switches it off.

Both lower precisions change the numbers, so greedy tokens drift from the exact path after
some steps (measured in ``bench/results/gpt.md``). Only the matrices inside the 24 layers are
converted; the embeddings, the BERT projection and the output head stay as they are.
Packed weights are built once per model and precision and rebuilt when a parameter changes.
"""
from __future__ import annotations

import functools
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.models.gpt import bf16_gemv, cpu_step

PRECISIONS = ("model", "bf16", "int8")

Linear = Callable[[torch.Tensor], torch.Tensor]
LayerMatmuls = tuple[Linear, Linear, Linear, Linear]  # qkv, out, ffn1, ffn2


@dataclass
class Matmuls:
    """Per layer (qkv, out, ffn1, ffn2) and the output head, each ``x -> x @ W.T + b``."""

    layers: list[LayerMatmuls]
    head: Linear
    fingerprint: tuple
    cache_dtype: torch.dtype  # products come out in this dtype; the KV cache is kept in it
    # (x1 [1,1,D], cache, start) -> hidden [1,D]: a whole one-row decoding step in one call
    # (cpu_step.py), or None: the step runs layer by layer through the products above.
    step: Callable | None = None


_BUILT: weakref.WeakKeyDictionary[torch.nn.Module, dict[str, Matmuls]] = weakref.WeakKeyDictionary()


def _fingerprint(model: torch.nn.Module) -> tuple:
    """Changes when a parameter is replaced, moved or modified in place (inference tensors
    keep no version counter: they are caught only when replaced)."""
    return tuple((p.data_ptr(), 0 if p.is_inference() else p._version, p.device.type)
                 for p in model.parameters())


def _onednn_bf16_ok(device: torch.device) -> bool:
    return (device.type == "cpu" and torch.backends.mkldnn.is_available()
            and torch.ops.mkldnn._is_mkldnn_bf16_supported()
            and hasattr(torch.ops.mkldnn, "_linear_pointwise"))


def _bf16_linear(w: torch.Tensor, b: torch.Tensor | None, one_row: bool = True) -> Linear:
    wb = w.detach().to(torch.bfloat16)
    bb = None if b is None else b.detach().to(torch.bfloat16)
    if _onednn_bf16_ok(w.device):
        packed = torch.ops.mkldnn._reorder_linear_weight(wb, 1)  # layout for one row at a time
        op = torch.ops.mkldnn._linear_pointwise

        def run(x: torch.Tensor) -> torch.Tensor:
            return op(x.to(torch.bfloat16), packed, bb, "none", [], "")
        n, k = wb.shape
        gemv = bf16_gemv.kernel() if one_row and bf16_gemv.fits(n, k) else None
        if gemv is None:
            return run
        # Our GEMV for one row (decoding steps), oneDNN for more (prefill, batches). Keeping
        # both copies costs another 2 bytes per weight (151 MB for the full-size model), but
        # prefill through plain bf16 F.linear instead measured slower (60.9 vs 64.6 tok/s).
        wc = wb.contiguous()
        bc = (torch.zeros(n, dtype=torch.bfloat16) if bb is None else bb).contiguous()

        def one_row(x: torch.Tensor) -> torch.Tensor:
            if x.numel() == k and x.dtype in (torch.float32, torch.bfloat16):
                return gemv(x, wc, bc)
            return run(x)
        return one_row

    def plain(x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.to(torch.bfloat16), wb, bb)
    return plain


def _int8_linear(w: torch.Tensor, b: torch.Tensor | None) -> Linear:
    w = w.detach().float()
    scale = (w.abs().amax(dim=1) / 127.0).clamp_min(1e-12).double()
    with warnings.catch_warnings():  # quantised tensors are deprecated (see the module doc)
        warnings.simplefilter("ignore", UserWarning)
        qw = torch.quantize_per_channel(w, scale, torch.zeros(w.shape[0], dtype=torch.long), 0,
                                        torch.qint8)
    packed = torch.ops.quantized.linear_prepack(qw, None if b is None else b.detach().float())
    op = torch.ops.quantized.linear_dynamic

    def run(x: torch.Tensor) -> torch.Tensor:
        return op(x.float(), packed, False)
    return run


def _model_linear(w: torch.Tensor, b: torch.Tensor | None) -> Linear:
    return functools.partial(F.linear, weight=w, bias=b)


def _fused_step(model: torch.nn.Module, precision: str) -> Callable | None:
    """The whole-step kernel over this model's weights (fp32 as they are, or bf16 copies),
    or None where it does not apply (not a CPU, not fp32, a shape it does not take, no build)."""
    first = next(model.parameters())
    cfg = model.cfg
    if (precision not in ("model", "bf16") or first.device.type != "cpu"
            or first.dtype != torch.float32
            or not cpu_step.fits(cfg.hidden_dim, cfg.ffn_dim, cfg.head)):
        return None
    k = cpu_step.kernel()
    if k is None:
        return None
    conv = (lambda w: w.detach().contiguous()) if precision == "model" else \
        (lambda w: w.detach().to(torch.bfloat16).contiguous())
    # bf16: the biases rounded to bf16 but passed as fp32, as the torch bf16 path adds them
    # (its GEMV and oneDNN keep bf16 biases); the kernel rounds each product's output to bf16.
    bias = (lambda b: b.detach().contiguous()) if precision == "model" else \
        (lambda b: b.detach().to(torch.bfloat16).float().contiguous())
    params: list[torch.Tensor] = []
    for layer in model.h.layers:
        a = layer.self_attn
        mats = [a.in_proj_weight, a.out_proj.weight, layer.linear1.weight, layer.linear2.weight]
        biases = [a.in_proj_bias, a.out_proj.bias, layer.linear1.bias, layer.linear2.bias]
        for w, b in zip(mats, biases):
            params += [conv(w), bias(b)]
        params += [t.detach().contiguous() for t in (layer.norm1.weight, layer.norm1.bias,
                                                      layer.norm2.weight, layer.norm2.bias)]
    heads, eps = cfg.head, float(model.h.layers[0].norm1.eps)

    def step(x1: torch.Tensor, cache, start: int) -> torch.Tensor:
        if start >= cache.k[0].shape[2]:
            raise ValueError(f"KV cache full ({cache.k[0].shape[2]} positions)")
        return k.step(x1, params, cache.k, cache.v, start, heads, eps, 0)
    return step


def build(model: torch.nn.Module, precision: str) -> Matmuls:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    first = next(model.parameters())
    device = first.device
    if precision != "model" and first.dtype != torch.float32:
        raise ValueError(f"precision={precision!r} converts an fp32 model; this one is "
                         f"{first.dtype}: load it in fp32 or decode with precision='model'")
    if precision == "int8" and device.type != "cpu":
        raise ValueError("int8 decoding runs on the CPU only; use bf16 on a GPU")
    fused = _fused_step(model, precision)
    make = {"model": _model_linear, "int8": _int8_linear,
            # with the fused step, one-row products never reach the bf16 GEMV
            "bf16": functools.partial(_bf16_linear, one_row=fused is None)}[precision]
    layers = []
    for layer in model.h.layers:
        a = layer.self_attn
        layers.append((make(a.in_proj_weight, a.in_proj_bias),
                       make(a.out_proj.weight, a.out_proj.bias),
                       make(layer.linear1.weight, layer.linear1.bias),
                       make(layer.linear2.weight, layer.linear2.bias)))
    dtype = {"model": first.dtype, "bf16": torch.bfloat16, "int8": torch.float32}[precision]
    # The head stays in the model's precision: bf16 logits tie often, and top-k keeps ties,
    # so "greedy" decoding would pick between tied tokens at random. It is 1.3 % of the weights.
    head = model.ar_predict_layer if precision == "model" else \
        _model_linear(model.ar_predict_layer.weight, None)  # "model": the module, hooks and all
    return Matmuls(layers, head, _fingerprint(model), dtype, fused)


def _fused_step_possible(model: torch.nn.Module) -> bool:
    first = next(model.parameters())
    return (first.device.type == "cpu" and first.dtype == torch.float32
            and cpu_step.fits(model.cfg.hidden_dim, model.cfg.ffn_dim, model.cfg.head)
            and cpu_step.kernel() is not None)


@torch.inference_mode()
def matmuls(model: torch.nn.Module, precision: str = "model") -> Matmuls | None:
    """The model's matmuls at ``precision``, built once and kept on the model until one of
    its parameters changes. None for ``"model"`` where the fused step does not apply: the
    model's own path (with it, "model" is the same fp32 products plus the fused step)."""
    if precision == "model" and not _fused_step_possible(model):
        return None
    store = _BUILT.setdefault(model, {})
    got = store.get(precision)
    if got is None or got.fingerprint != _fingerprint(model):
        got = store[precision] = build(model, precision)
    return got
