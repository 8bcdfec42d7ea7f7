"""Tokens per second of the fixed-shape decoding step (engine/models/gpt/static_step.py)
beside the exact loop, full-size GPT v2 with random weights, greedy, EOS kept out (the
setting of bench/gpt_decode.py: 30 phonemes, a 150-token prompt, 300 new tokens).

On a CPU it compares ``exact`` (DecodeOptions.static="off") with ``static`` (fixed shapes,
no graphs): what the CUDA-graph path costs where it cannot be graphed. On CUDA it adds
``graph`` (the same step replayed as CUDA graphs) and, with ``--batch N``, N rows decoded
together (tokens/s summed over the rows). Paths alternate A B C C B A per round (a shared
machine's load drifts); the best wall and CPU-time rate per path are reported, with the
load average and whether every path's tokens equal the exact path's.

    .venv/bin/python bench/gpt_graph.py [--threads 1] [--tokens 300] [--rounds 2]
        [--device cpu|cuda] [--dtype float32|float16] [--batch 0] [--out bench/results/gpt.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from dataclasses import replace

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script too
from bench._mirrored import mirrored  # noqa: E402
from engine.models.gpt import DecodeOptions, GptConfig, Sampling, Text2Semantic, decode
from engine.models.gpt.batch import decode_batch


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def compare(model: Text2Semantic, phones, bert, prompt, n: int, paths: list[str], rounds: int,
            batch: int = 0) -> list[str]:
    device = next(model.parameters()).device
    base = DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35), max_new_tokens=n,
                         min_steps_before_eos=n)
    mode = {"exact": "off", "static": "static", "graph": "graph"}
    for p in paths:  # warm-up: kernels, and (graph) every window's capture, kept on the model
        short = p != "graph"  # a graph runner must see the timed runs' length to keep them
        decode(model, phones, bert, prompt, replace(base, static=mode[p], early_stop=7)
               if short else replace(base, static=mode[p]))
    t = mirrored(paths, rounds, lambda p: decode(model, phones, bert, prompt,
                                                 replace(base, static=mode[p])).tokens,
                 lambda: _sync(device))
    walls, cpus, tokens, loads = t.walls, t.cpus, t.results, t.loads
    lines = [f"fixed-shape step vs exact loop, {device.type} {next(model.parameters()).dtype}, "
             f"{torch.get_num_threads()} thread(s), {n} tokens, {rounds} mirrored round(s), "
             f"load avg {min(loads):.1f}-{max(loads):.1f}:"]
    ref = tokens["exact"] if "exact" in tokens else None
    for p in paths:
        same = "" if ref is None else f"; tokens equal to exact: {torch.equal(tokens[p], ref)}"
        lines.append(f"  {p}: best {n / min(walls[p]):.1f} tok/s wall, "
                     f"{n / min(cpus[p]):.1f} tok/s by CPU time ({min(cpus[p]) / min(cpus[paths[0]]):.2f}x "
                     f"{paths[0]}'s CPU time){same}")
    if batch > 1:
        rows = [phones[0]] * batch
        berts = [bert[0]] * batch
        for p in paths:
            opts = replace(base, static=mode[p])
            decode_batch(model, rows, berts, prompt[0],
                         opts if p == "graph" else replace(opts, early_stop=7))
            _sync(device)
            w0 = time.perf_counter()
            got = decode_batch(model, rows, berts, prompt[0], opts)
            _sync(device)
            wall = time.perf_counter() - w0
            same = all(torch.equal(r.tokens, tokens[p]) for r in got.rows)
            lines.append(f"  {p}, batch of {batch} rows: {batch * n / wall:.1f} tok/s summed "
                         f"({n / wall:.1f} per row; rows equal their solo tokens: {same})")
    lines.append(f"  torch {torch.__version__}; {platform.processor() or platform.machine()}, "
                 f"{os.cpu_count()} cores"
                 + (f"; {torch.cuda.get_device_name(0)}" if device.type == "cuda" else ""))
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    ap.add_argument("--batch", type=int, default=0, help="also decode N rows together")
    ap.add_argument("--out", default="")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    torch.manual_seed(0)
    model = Text2Semantic(GptConfig()).to(device, getattr(torch, a.dtype)).eval()
    g = torch.Generator().manual_seed(1)
    phones = torch.randint(0, 732, (1, 30), generator=g).to(device)
    bert = (torch.randn(1, 1024, 30, generator=g) * 0.1).to(device, getattr(torch, a.dtype))
    prompt = torch.randint(0, 1024, (1, 150), generator=g).to(device)
    paths = ["exact", "static"] + (["graph"] if device.type == "cuda" else [])
    text = "\n".join(compare(model, phones, bert, prompt, a.tokens, paths, a.rounds, a.batch))
    print(text)
    if a.out:
        with open(a.out, "a", encoding="utf-8") as f:
            f.write(f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
                    f"bench/gpt_graph.py: {text}\n")


if __name__ == "__main__":
    main()
