"""Decoding several pieces at once (upstream's ``infer_panel_batch_infer``, the fast
pipeline's default): phonemes are left-padded to a common length and the padding is masked,
all rows share one prompt, and a row leaves the batch (and the cache) when it ends. Each
row gets the tokens it would get alone; on a GPU the batch costs about one row's time.

As in :func:`engine.models.gpt.decoding.decode`, rows stopped early or at the cap keep all
their tokens (upstream's batch path drops the last one).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from engine.models.gpt.decoding import DecodeOptions, DecodeResult, _generator, decode
from engine.models.gpt.model import KVCache, Text2Semantic
from engine.models.gpt.precision import matmuls
from engine.models.gpt.sampling import pick
from engine.models.gpt.static_decode import pick_each


@dataclass
class BatchResult:
    rows: list[DecodeResult]  # in input order
    logits: torch.Tensor | None  # [sum of live rows over steps, V] raw logits when keep_logits
    rows_per_step: list[int]


@torch.inference_mode()
def decode_batch(model: Text2Semantic, phones: list[torch.Tensor], berts: list[torch.Tensor],
                 prompt: torch.Tensor | None, opts: DecodeOptions = DecodeOptions(),
                 seeds: list[int] | None = None) -> BatchResult:
    """phones: [P_i] ids per row, berts: [1024, P_i] per row, prompt: [T] shared codes
    (None: reference-free, decoded row by row as upstream falls back to). ``seeds``: one
    per row, each row drawing from its own generator as ``decode(..., seed=seeds[i])``
    alone would (instead of one generator, ``opts.seed``, shared by the batch)."""
    if prompt is None:
        rows_out = [decode(model, ph.view(1, -1), bt.unsqueeze(0), None,
                           opts if seeds is None else replace(opts, seed=seeds[i]))
                    for i, (ph, bt) in enumerate(zip(phones, berts))]
        return BatchResult(rows_out, None, [])
    p = next(model.parameters())
    device, dtype = p.device, p.dtype
    eos, rows = model.cfg.EOS, len(phones)
    x_len = max(int(t.shape[0]) for t in phones)
    x = torch.zeros(rows, x_len, model.cfg.hidden_dim, dtype=dtype, device=device)
    for i, (ph, bt) in enumerate(zip(phones, berts)):  # embed alone, then pad on the left
        n = ph.shape[0]
        x[i, x_len - n:] = model.embed_text(ph.view(1, -1).to(device),
                                            bt.unsqueeze(0).to(device, dtype))[0]
    prefix = prompt.shape[-1]
    prompt = prompt.view(1, -1).to(device).expand(rows, -1)
    xy = torch.cat([x, model.embed_audio(prompt)], dim=1)
    n = xy.shape[1]
    cap = n + opts.max_new_tokens
    keys = torch.ones(rows, cap, dtype=torch.bool, device=device)  # key may be attended
    for i, ph in enumerate(phones):
        keys[i, :x_len - ph.shape[0]] = False
    allow = torch.ones(n, n, dtype=torch.bool, device=device)
    allow[:x_len, x_len:] = False
    allow[x_len:, x_len:] = torch.ones(n - x_len, n - x_len, dtype=torch.bool,
                                       device=device).tril()
    allow = allow.unsqueeze(0) & keys[:, None, :n]

    mm = matmuls(model, opts.precision)  # None: the model's own weights
    history = torch.empty(rows, prefix + opts.max_new_tokens, dtype=torch.long, device=device)
    history[:, :prefix] = prompt
    gen = _generator(opts.seed, device) if seeds is None else \
        [_generator(s, device) for s in seeds]
    from engine.models.gpt import static_decode

    mode = static_decode.resolve(opts.static, device)
    if mode != "off":  # the fixed-shape (CUDA-graphable) loop
        res, kept, per_step = static_decode.decode_rows(
            model, xy, allow.unsqueeze(1), [x_len - int(ph.shape[0]) for ph in phones],
            history, prefix, opts, gen, mm, mode)
        return BatchResult(res, torch.cat(kept) if kept else None, per_step)
    cache = KVCache.allocate(model.cfg, rows, cap,
                             dtype=dtype if mm is None else mm.cache_dtype, device=device)
    live = list(range(rows))  # original row index of each batch row
    results: list[DecodeResult | None] = [None] * rows
    kept: list[torch.Tensor] = []
    per_step: list[int] = []

    hidden = model.prefill(xy, allow.unsqueeze(1), cache, mm)
    count = prefix
    for idx in range(opts.max_new_tokens):
        if idx:
            hidden = model.step(model.embed_audio(history[:, count - 1:count], count - 1), cache,
                                keys[:, None, None, :count + x_len], mm)
        logits = model.logits(hidden, mm)
        per_step.append(len(live))
        if opts.keep_logits:
            kept.append(logits.float().clone())
        if isinstance(gen, list):
            token, logits = pick_each(logits, history[:, :count], opts.sampling,
                                      idx >= opts.min_steps_before_eos, gen)
        else:
            token, logits = pick(logits, history[:, :count], opts.sampling,
                                 idx >= opts.min_steps_before_eos, gen)
        history[:, count] = token
        count += 1
        ended = (logits.argmax(-1) == eos) | (token == eos)
        early = opts.early_stop != -1 and count - prefix > opts.early_stop
        last = idx == opts.max_new_tokens - 1
        for b in range(len(live)):
            if ended[b]:
                results[live[b]] = DecodeResult(history[b, prefix:count - 1].clone(), "eos", idx)
            elif early or last:
                results[live[b]] = DecodeResult(history[b, prefix:count].clone(),
                                                "early_stop" if early else "cap", idx)
        if early or last or bool(ended.all()):
            break
        if bool(ended.any()):  # finished rows leave the batch and the cache
            keep = torch.nonzero(~ended).flatten()
            live = [live[int(b)] for b in keep]
            history, keys = history.index_select(0, keep), keys.index_select(0, keep)
            if isinstance(gen, list):
                gen = [gen[int(b)] for b in keep]
            cache.select(keep)
    return BatchResult([r for r in results if r is not None],
                       torch.cat(kept) if kept else None, per_step)
