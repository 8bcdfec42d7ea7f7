"""Where a GPT decoding step's time goes (full-size random v2 GPT, CPU), at a given thread
count: the torch per-layer path by op (torch.profiler), the part of a step outside the
layers (embedding, head, sampling), the Python/dispatch overhead, and the fused whole-step
kernel (engine/models/gpt/cpu_step.py) against the weight products alone. Usage:
    .venv/bin/python bench/gpt_profile.py [--threads 1,2] [--steps 40] [--cache 330]
"""
from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict

import torch


def timed(fn, reps: int) -> tuple[float, float]:
    """(wall, CPU) seconds per call, best of 3 batches of ``reps`` calls."""
    best = (1e9, 1e9)
    for _ in range(3):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(reps):
            fn()
        w, c = (time.perf_counter() - w0) / reps, (time.process_time() - c0) / reps
        best = min(best, (w, c))
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2",
                    help="thread counts, measured in mirrored order (1,2,2,1) in one process")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--cache", type=int, default=330, help="cached positions during a step")
    a = ap.parse_args()
    counts = [int(t) for t in a.threads.split(",")]
    from engine.models.gpt import GptConfig, KVCache, Sampling, Text2Semantic, cpu_step, precision
    from engine.models.gpt.sampling import pick
    torch.manual_seed(0)
    model = Text2Semantic(GptConfig()).eval()
    cfg = model.cfg
    ms = lambda s: f"{s * 1e3:.2f} ms"  # noqa: E731
    with torch.inference_mode():
        cache = KVCache.allocate(cfg, 1, a.cache + 4 * a.steps, dtype=torch.float32,
                                 device=torch.device("cpu"))
        for t in cache.k + cache.v:
            t.normal_()
        x1 = torch.randn(1, 1, cfg.hidden_dim)
        fused = precision.matmuls(model, "model")
        bf16 = precision.matmuls(model, "bf16")
        cache_b = KVCache([t.bfloat16() for t in cache.k], [t.bfloat16() for t in cache.v])

        def torch_step():
            cache.length = a.cache
            model.step(x1, cache)

        def fused_step():
            cache.length = a.cache
            model.step(x1, cache, mm=fused)

        def bf16_step():
            cache_b.length = a.cache
            model.step(x1, cache_b, mm=bf16)
        hist = torch.randint(0, 1024, (1, a.cache))
        h = torch.randn(1, cfg.hidden_dim)
        s = Sampling(top_k=1, repetition_penalty=1.35)

        def outside():  # what decode does per step besides the layers
            e = model.embed_audio(hist[:, -1:], a.cache)
            logits = model.logits(h)
            tok, lg = pick(logits, hist, s, True, None)
            int(lg.argmax(-1)[0]), int(tok[0]), e
        mats = []
        for layer in model.h.layers:
            at = layer.self_attn
            mats += [(at.in_proj_weight, at.in_proj_bias), (at.out_proj.weight, at.out_proj.bias),
                     (layer.linear1.weight, layer.linear1.bias),
                     (layer.linear2.weight, layer.linear2.bias)]
        k = cpu_step.kernel()
        xs = {w.shape[1]: torch.randn(1, 1, w.shape[1]) for w, _ in mats}
        mats_b = [(w.bfloat16().contiguous(), b) for w, b in mats]

        def linear_only():
            for w, b in mats:
                torch.nn.functional.linear(xs[w.shape[1]], w, b)

        def gemv_only(m=mats):
            for w, b in m:
                k.gemv(xs[w.shape[1]], w, b, 0)
        for f in (torch_step, fused_step, bf16_step, outside, linear_only, gemv_only):
            f()
        cases = [("torch per-layer step", torch_step), ("fused step (fp32)", fused_step),
                 ("fused step (bf16)", bf16_step),
                 ("outside the layers (embed, head, sampling)", outside),
                 ("96 products alone, F.linear", linear_only),
                 ("96 products alone, our GEMV fp32, one region each", gemv_only),
                 ("96 products alone, our GEMV bf16, one region each", lambda: gemv_only(mats_b))]
        rows = {t: {} for t in counts}
        loads = []
        for t in counts + counts[::-1]:
            torch.set_num_threads(t)
            for name, f in cases:
                got = timed(f, a.steps)
                rows[t][name] = min(rows[t].get(name, got), got)
            loads.append(os.getloadavg()[0])
        by = {}
        for t in counts:  # torch path by op
            torch.set_num_threads(t)
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
                for _ in range(a.steps):
                    torch_step()
            by[t] = defaultdict(float)
            for ev in prof.key_averages():
                by[t][ev.key] += ev.self_cpu_time_total / 1e6 / a.steps
    lines = [f"cache at {a.cache} positions, threads {counts} in mirrored order, load avg "
             f"{min(loads):.1f}-{max(loads):.1f}; per step, best wall / best CPU time:"]
    for name, _ in cases:
        lines.append(f"  {name}: " + "; ".join(
            f"{t} thr {ms(rows[t][name][0])} / {ms(rows[t][name][1])}" for t in counts))
    for t in counts:
        lines.append(f"  torch path by op at {t} thread(s) (profiler self CPU per step, "
                     f"sum {ms(sum(by[t].values()))}; the profiler adds its own cost):")
        for key, v in sorted(by[t].items(), key=lambda kv: -kv[1])[:6]:
            lines.append(f"    {key}: {ms(v)}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
