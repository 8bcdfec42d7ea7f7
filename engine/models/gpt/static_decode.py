"""The decoding loop over the fixed-shape step (static_step.py), optionally CUDA-graphed
(graph.py); :func:`engine.models.gpt.decoding.decode` and
:func:`engine.models.gpt.batch.decode_batch` hand over to it when ``DecodeOptions.static``
says so. The prompt (prefill) runs as in the exact loop; every later step goes through the
runner, and sampling stays outside the graph (it reads the history, whose length grows).

Rows are never dropped from the batch: a finished row keeps being computed (its outputs
are ignored), so the shapes, and so the graphs, stay valid; on a GPU a few more rows cost
nearly nothing. Its stop rules, results and random draws are those of the exact loops.
"""
from __future__ import annotations

import torch

from engine.models.gpt.decoding import DecodeOptions, DecodeResult
from engine.models.gpt.graph import runner_for
from engine.models.gpt.model import Text2Semantic
from engine.models.gpt.sampling import Sampling, draw, penalise, pick, probabilities
from engine.models.gpt.static_step import window_for

MODES = ("auto", "off", "static", "graph")


def resolve(mode: str, device: torch.device) -> str:
    """``auto``: CUDA graphs on a CUDA device, the exact loop elsewhere (on a CPU the static
    step only adds masked work). ``static``: the fixed-shape step without graphs (any
    device; what the CPU tests check). ``graph``: CUDA only. ``off``: the exact loop."""
    if mode not in MODES:
        raise ValueError(f"static must be one of {MODES}, not {mode!r}")
    if mode == "auto":
        return "graph" if device.type == "cuda" else "off"
    if mode == "graph" and device.type != "cuda":
        raise ValueError("static='graph' needs a CUDA device; use 'static' or 'auto'")
    return mode


def pick_each(logits: torch.Tensor, history: torch.Tensor, s: Sampling, allow_eos: bool,
              generators: list[torch.Generator]) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`pick` with one generator per row: row ``b`` draws exactly the noise it would
    draw decoding alone with ``generators[b]`` (pieces keep their own seeds in a batch)."""
    if not allow_eos:
        logits = logits[:, :-1]
    penalise(logits, history, s.repetition_penalty)
    probs = probabilities(logits, s)
    tokens = torch.cat([draw(probs[b:b + 1], g) for b, g in enumerate(generators)])
    return tokens, logits


@torch.inference_mode()
def decode_rows(model: Text2Semantic, xy: torch.Tensor, allow: torch.Tensor,
                pad: list[int], history: torch.Tensor, prefix: int, opts: DecodeOptions,
                generator: torch.Generator | list[torch.Generator] | None, mm, mode: str
                ) -> tuple[list[DecodeResult], list[torch.Tensor], list[int]]:
    """xy [B,S,D] prompt embeddings, ``allow`` the prefill mask, ``pad[b]`` left-padding
    slots of row b (never attended), ``history`` [B, prefix+max_new] with the prompt codes.
    Returns per-row results, the raw logits of live rows per step (keep_logits) and the
    live row count per step, as the exact batch loop does."""
    p = next(model.parameters())
    rows, n = xy.shape[0], xy.shape[1]
    eos, cap = model.cfg.EOS, n + opts.max_new_tokens
    model.ar_audio_position.table(prefix + opts.max_new_tokens + 1)  # grow before capture
    runner = runner_for(model, rows, cap, p.dtype if mm is None else mm.cache_dtype, mm,
                        opts.precision, graphs=mode == "graph")
    step = runner.step
    step.keys.fill_(True)
    for b, k in enumerate(pad):
        step.keys[b, :k] = False
    hidden = model.prefill(xy, allow, step.cache, mm)
    logits = model.logits(hidden, mm)
    live = torch.arange(rows, device=p.device)
    alive = list(range(rows))  # original row of each live row
    results: list[DecodeResult | None] = [None] * rows
    kept: list[torch.Tensor] = []
    per_step: list[int] = []
    count = prefix
    for idx in range(opts.max_new_tokens):
        if idx:
            slot = n + idx - 1
            step.set_inputs(history[:, count - 1:count], count - 1, slot)
            logits = runner.run(window_for(slot, step.capacity))
        lg = logits if len(alive) == rows else logits.index_select(0, live)
        per_step.append(len(alive))
        if opts.keep_logits:
            kept.append(lg.float().clone())
        hist = history[:, :count] if len(alive) == rows else history[live, :count]
        allow_eos = idx >= opts.min_steps_before_eos
        if isinstance(generator, list):
            token, lg = pick_each(lg, hist, opts.sampling, allow_eos,
                                  [generator[b] for b in alive])
        else:
            token, lg = pick(lg, hist, opts.sampling, allow_eos, generator)
        column = torch.zeros(rows, dtype=torch.long, device=p.device)  # done rows: any valid id
        column[live] = token
        history[:, count] = column
        count += 1
        ended = ((lg.argmax(-1) == eos) | (token == eos)).tolist()
        early = opts.early_stop != -1 and count - prefix > opts.early_stop
        last = idx == opts.max_new_tokens - 1
        for j, b in enumerate(alive):
            if ended[j]:
                results[b] = DecodeResult(history[b, prefix:count - 1].clone(), "eos", idx)
            elif early or last:
                results[b] = DecodeResult(history[b, prefix:count].clone(),
                                          "early_stop" if early else "cap", idx)
        if early or last or all(ended):
            break
        if any(ended):
            alive = [b for j, b in enumerate(alive) if not ended[j]]
            live = torch.tensor(alive, device=p.device)
    return [r for r in results if r is not None], kept, per_step
