"""The bf16 decode path's one-row products: our AVX512-BF16 GEMV
(engine/models/gpt/bf16_gemv.py) against oneDNN's prepacked ``mkldnn._linear_pointwise``
(what precision="bf16" ran before it) and fp32 ``F.linear``; then full decoding with each.

Decoding one token is 96 one-row products (24 layers x qkv, out, ffn1, ffn2) over 151 MB of
bf16 weights. Paths in the full decode: catgrown (upstream's loop, fp32), model (exact fp32),
bf16onednn (bf16 with oneDNN only), bf16 (bf16 with this GEMV), all with the fused
whole-step kernel (cpu_step.py, what decoding steps run now) switched off. Usage:
    .venv/bin/python bench/gpt_gemv.py [--tokens 300] [--rounds 2] [--out bench/results/gpt.md]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch


def per_matmul(gemv) -> list[str]:
    """ms per token for the 96 one-row products (many weight copies cycled: beyond L2)."""
    op = torch.ops.mkldnn._linear_pointwise
    tot = {"fp32 F.linear": 0.0, "bf16 oneDNN": 0.0, "bf16 GEMV": 0.0}
    lines = []
    for n, k in [(1536, 512), (512, 512), (2048, 512), (512, 2048)]:
        cnt = max(2, int(200e6 // (n * k * 2)))
        ws = [torch.randn(n, k) * 0.05 for _ in range(cnt // 2)]
        wb = [w.bfloat16() for w in ws] * 2
        packed = [torch.ops.mkldnn._reorder_linear_weight(w, 1) for w in wb]
        b, x = torch.randn(n) * 0.05, torch.randn(1, 1, k)
        bb = b.bfloat16()
        same = torch.equal(gemv(x, wb[0], bb), op(x.bfloat16(), packed[0], bb, "none", [], ""))
        fs = {"fp32 F.linear": lambda i: torch.nn.functional.linear(x, ws[i % len(ws)], b),
              "bf16 oneDNN": lambda i: op(x.bfloat16(), packed[i % len(packed)], bb, "none", [], ""),
              "bf16 GEMV": lambda i: gemv(x, wb[i % len(wb)], bb)}
        row = []
        for name, f in fs.items():
            best = 1e9
            for _ in range(5):
                c0 = time.process_time()
                for i in range(100):
                    f(i)
                best = min(best, (time.process_time() - c0) / 100)
            tot[name] += 24 * best
            gbs = n * k * (4 if name.startswith("fp32") else 2) / best / 1e9
            row.append(f"{name} {best * 1e6:.0f} us ({gbs:.1f} GB/s)")
        lines.append(f"    {n}x{k}: " + ", ".join(row) + f"; GEMV output == oneDNN's: {same}")
    lines.insert(0, "  96 one-row products per token, 1 thread, CPU time: "
                 + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in tot.items()))
    return lines


def full_decode(n: int, rounds: int) -> list[str]:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from gpt_decode import growing_cache_decode

    from engine.models.gpt import DecodeOptions, GptConfig, Sampling, Text2Semantic, decode
    from engine.models.gpt import bf16_gemv, cpu_step, precision
    torch.manual_seed(0)
    model = Text2Semantic(GptConfig()).eval()
    g = torch.Generator().manual_seed(1)
    phones = torch.randint(0, 732, (1, 30), generator=g)
    bert = torch.randn(1, 1024, 30, generator=g) * 0.1
    prompt = torch.randint(0, 1024, (1, 150), generator=g)
    built = {}
    real, real_step = bf16_gemv.kernel, cpu_step.kernel
    cpu_step.kernel = lambda: None  # this bench is about the per-product GEMV, not the fused step
    for name in ["bf16onednn", "bf16"]:
        bf16_gemv.kernel = real if name == "bf16" else (lambda: None)
        precision._BUILT.pop(model, None)
        built[name] = precision.matmuls(model, "bf16")
    bf16_gemv.kernel = real

    def opts(p, k):
        return DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35),
                             max_new_tokens=k, min_steps_before_eos=k, precision=p)
    paths = ["catgrown", "model", "bf16onednn", "bf16"]

    def run(p, k):
        if p == "catgrown":
            return growing_cache_decode(model, phones, bert, prompt, k, 1.35)
        if p.startswith("bf16"):
            precision._BUILT[model] = {"bf16": built[p]}
            return decode(model, phones, bert, prompt, opts("bf16", k)).tokens
        return decode(model, phones, bert, prompt, opts(p, k)).tokens
    for p in paths:
        run(p, 5)
    cpus: dict[str, list[float]] = {p: [] for p in paths}
    toks = {}
    loads = []
    for _ in range(rounds):
        for p in paths + paths[::-1]:
            c0 = time.process_time()
            toks[p] = run(p, n)
            cpus[p].append(time.process_time() - c0)
            loads.append(os.getloadavg()[0])
    cpu_step.kernel = real_step
    base = min(cpus["catgrown"])
    lines = [f"  full decode, {n} tokens, 1 thread, {rounds} mirrored round(s), load avg "
             f"{min(loads):.1f}-{max(loads):.1f}:"]
    for p in paths:
        eq = (toks[p] == toks["model"]).tolist()
        first = next((i for i, ok in enumerate(eq) if not ok), n)
        lines.append(f"    {p}: {n / min(cpus[p]):.1f} tok/s by CPU time ({base / min(cpus[p]):.2f}x "
                     f"catgrown); tokens equal to exact {sum(eq)}/{n}, first difference at {first}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    torch.set_num_threads(1)
    from engine.models.gpt import bf16_gemv
    gemv = bf16_gemv.kernel()
    if gemv is None:
        raise SystemExit("the bf16 GEMV kernel is unavailable here (see bf16_gemv.py)")
    text = "\n".join(["bf16 one-row GEMV (bench/gpt_gemv.py):"] + per_matmul(gemv)
                     + full_decode(a.tokens, a.rounds))
    print(text)
    if a.out:
        with open(a.out, "a", encoding="utf-8") as f:
            f.write(f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {text}\n")


if __name__ == "__main__":
    main()
