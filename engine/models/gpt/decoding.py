"""Autoregressive decoding with a static KV cache and upstream's stop rules.

Rules (upstream ``infer_panel_naive``, spec §4.3): the first step runs [text ; prompt codes]
at once; EOS is removed from the candidates for the first ``min_steps_before_eos`` steps;
decoding stops when the (penalised) argmax or the drawn token is EOS (that last token is
dropped), when more than ``early_stop`` tokens were generated, or at the ``max_new_tokens``
cap (upstream: 1500 steps = 60 s). Only the new tokens are returned.

One difference on purpose: at an early stop or at the cap upstream's callers keep the last
``idx`` tokens and so lose the first generated one (``pred[:, -idx:]``); we return all.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from engine.models.gpt.model import KVCache, Text2Semantic
from engine.models.gpt.precision import matmuls
from engine.models.gpt.sampling import Sampling, pick

MAX_NEW_TOKENS = 1500
MIN_STEPS_BEFORE_EOS = 11


@dataclass(frozen=True)
class DecodeOptions:
    sampling: Sampling = field(default_factory=Sampling)
    max_new_tokens: int = MAX_NEW_TOKENS
    early_stop: int = -1  # stop once more than this many were generated (-1: never)
    min_steps_before_eos: int = MIN_STEPS_BEFORE_EOS
    seed: int | None = None  # None: the global torch RNG (as upstream)
    keep_logits: bool = False  # record each step's raw logits (tests, debugging)
    # Matrix products: "model" (the weights as loaded; exact, equals upstream), or the faster
    # opt-in "bf16" / "int8" (CPU), whose tokens drift from the exact ones (precision.py).
    precision: str = "model"
    # Fixed-shape steps (static_decode.py): "auto" = CUDA graphs on a CUDA device, the exact
    # loop elsewhere; "off" = always the exact loop; "static" = fixed shapes without graphs
    # (any device; same greedy tokens as the exact loop); "graph" = CUDA graphs (CUDA only).
    static: str = "auto"


@dataclass
class DecodeResult:
    tokens: torch.Tensor  # [N] int64, new tokens only, no EOS
    stop: str  # "eos" | "early_stop" | "cap"
    steps: int  # index of the last decoding step (upstream's ``idx``)
    logits: torch.Tensor | None = None  # [steps+1, V] raw logits when keep_logits


def _generator(seed: int | None, device: torch.device) -> torch.Generator | None:
    if seed is None:
        return None
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    return g


@torch.inference_mode()
def decode(model: Text2Semantic, phones: torch.Tensor, bert: torch.Tensor,
           prompt: torch.Tensor | None, opts: DecodeOptions = DecodeOptions()) -> DecodeResult:
    """phones [1,P] ids, bert [1,1024,P], prompt [1,T] reference codes or None
    (reference-free mode: no prompt codes; the caller also leaves out prompt phonemes)."""
    p = next(model.parameters())
    device, dtype = p.device, p.dtype
    eos = model.cfg.EOS
    phones, bert = phones.to(device), bert.to(device=device, dtype=dtype)
    prefix = 0 if prompt is None else prompt.shape[1]
    x = model.embed_text(phones, bert)
    xy = x if prompt is None else torch.cat([x, model.embed_audio(prompt.to(device))], dim=1)
    x_len, n = x.shape[1], xy.shape[1]

    mm = matmuls(model, opts.precision)  # None: the model's own weights
    history = torch.empty(1, prefix + opts.max_new_tokens, dtype=torch.long, device=device)
    if prompt is not None:
        history[:, :prefix] = prompt
    allow = torch.ones(n, n, dtype=torch.bool, device=device)
    allow[:x_len, x_len:] = False  # text does not see the prompt codes
    allow[x_len:, x_len:] = torch.ones(n - x_len, n - x_len, dtype=torch.bool,
                                       device=device).tril()
    gen = _generator(opts.seed, device)
    from engine.models.gpt import static_decode

    mode = static_decode.resolve(opts.static, device)
    if mode != "off":  # the fixed-shape (CUDA-graphable) loop
        rows, kept, _ = static_decode.decode_rows(model, xy, allow.view(1, 1, n, n), [0],
                                                  history, prefix, opts, gen, mm, mode)
        r = rows[0]
        return DecodeResult(r.tokens, r.stop, r.steps,
                            torch.cat(kept) if kept else None)
    cache = KVCache.allocate(model.cfg, 1, n + opts.max_new_tokens,
                             dtype=dtype if mm is None else mm.cache_dtype, device=device)
    kept: list[torch.Tensor] = []

    hidden = model.prefill(xy, allow.view(1, 1, n, n), cache, mm)
    count, stop, idx = prefix, "cap", 0
    for idx in range(opts.max_new_tokens):
        if idx:
            hidden = model.step(model.embed_audio(history[:, count - 1:count], count - 1), cache,
                                mm=mm)
        logits = model.logits(hidden, mm)
        if opts.keep_logits:
            kept.append(logits[0].float().clone())
        token, logits = pick(logits, history[:, :count], opts.sampling,
                             idx >= opts.min_steps_before_eos, gen)
        history[:, count] = token
        count += 1
        if opts.early_stop != -1 and count - prefix > opts.early_stop:
            stop = "early_stop"
        if int(logits.argmax(-1)[0]) == eos or int(token[0]) == eos:
            stop, count = "eos", count - 1
            break
        if stop == "early_stop":
            break
    return DecodeResult(tokens=history[0, prefix:count].clone(), stop=stop, steps=idx,
                        logits=torch.stack(kept) if kept else None)
