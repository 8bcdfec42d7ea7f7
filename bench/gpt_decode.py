"""Tokens per second of full-size GPT v2 greedy decoding, with and without the KV cache.

Setting from the issue: 30 phonemes, a 150-token prompt, 300 new tokens, one thread (CPU).
Weights are random (seeded); EOS is kept out of the candidates so every run makes exactly
the requested number of tokens. Usage:
    .venv/bin/python bench/gpt_decode.py [--threads 1] [--tokens 300] [--device cpu]
        [--no-cache-tokens 40] [--out bench/results/gpt.md]
    .venv/bin/python bench/gpt_decode.py --precisions catgrown,model,model-torch,bf16,int8
        [--rounds 2] [--threads 2]   (decoding paths compared ABBA-style; names in PATHS)
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script too
from bench._mirrored import mirrored  # noqa: E402
from engine.models.gpt import DecodeOptions, GptConfig, Sampling, Text2Semantic, decode


def no_cache_decode(model: Text2Semantic, phones, bert, prompt, n: int, penalty: float):
    """Reference loop: rerun the whole sequence every step (what a cache saves)."""
    from engine.models.gpt.sampling import penalise
    y = prompt.clone()
    x = model.embed_text(phones, bert)
    for _ in range(n):
        xy = torch.cat([x, model.embed_audio(y)], dim=1)
        s, xl = xy.shape[1], x.shape[1]
        allow = torch.ones(s, s, dtype=torch.bool)
        allow[:xl, xl:] = False
        allow[xl:, xl:] = torch.ones(s - xl, s - xl, dtype=torch.bool).tril()
        h = xy
        for layer in model.h.layers:
            h = layer(h, allow.view(1, 1, s, s))
        logits = model.logits(h[:, -1])[:, :-1]
        penalise(logits, y, penalty)
        y = torch.cat([y, logits.argmax(-1, keepdim=True)], dim=1)
    return y[0, prompt.shape[1]:]


@torch.inference_mode()
def growing_cache_decode(model: Text2Semantic, phones, bert, prompt, n: int, penalty: float):
    """The way upstream's loop keeps its cache: ``torch.cat`` a new key/value onto every
    layer's cache each step (a full copy per step), otherwise the same math as ours."""
    import torch.nn.functional as F
    from engine.models.gpt.sampling import penalise
    x = model.embed_text(phones, bert)
    xy = torch.cat([x, model.embed_audio(prompt)], dim=1)
    s, xl = xy.shape[1], x.shape[1]
    allow = torch.ones(s, s, dtype=torch.bool)
    allow[:xl, xl:] = False
    allow[xl:, xl:] = torch.ones(s - xl, s - xl, dtype=torch.bool).tril()
    ks: list[torch.Tensor] = []
    vs: list[torch.Tensor] = []
    y = prompt.clone()
    h = xy
    for i in range(n):
        for j, layer in enumerate(model.h.layers):
            a = layer.self_attn
            q, k, v = F.linear(h, a.in_proj_weight, a.in_proj_bias).chunk(3, dim=-1)
            if i == 0:
                ks.append(layer._split(k))
                vs.append(layer._split(v))
                mask = allow.view(1, 1, s, s)
            else:
                ks[j] = torch.cat([ks[j], layer._split(k)], dim=2)
                vs[j] = torch.cat([vs[j], layer._split(v)], dim=2)
                mask = None
            att = F.scaled_dot_product_attention(layer._split(q), ks[j], vs[j], attn_mask=mask)
            h = layer._finish(h, att)
        logits = model.logits(h[:, -1])[:, :-1]
        penalise(logits, y, penalty)
        y = torch.cat([y, logits.argmax(-1, keepdim=True)], dim=1)
        h = model.embed_audio(y[:, -1:], y.shape[1] - 1)
    return y[0, prompt.shape[1]:]


@torch.inference_mode()
def weights_floor(model: Text2Semantic, reps: int = 20) -> float:
    """Seconds per token spent only multiplying one vector through every weight matrix once:
    decoding is memory-bound, so this is the floor any fp32 implementation pays."""
    x = model.bert_proj.weight
    mats = []
    for layer in model.h.layers:
        a = layer.self_attn
        mats += [(a.in_proj_weight, a.in_proj_bias), (a.out_proj.weight, a.out_proj.bias),
                 (layer.linear1.weight, layer.linear1.bias), (layer.linear2.weight, layer.linear2.bias)]
    mats.append((model.ar_predict_layer.weight, None))
    inputs = {w.shape[1]: torch.randn(1, 1, w.shape[1], device=x.device) for w, _ in mats}
    t0 = time.perf_counter()
    for _ in range(reps):
        for w, b in mats:
            torch.nn.functional.linear(inputs[w.shape[1]], w, b)
    return (time.perf_counter() - t0) / reps


UPSTREAM = "catgrown"  # --precisions name of upstream's way of caching (fp32, torch.cat)
# --precisions names: a DecodeOptions precision ("model", "bf16", "int8": what decode runs by
# default), UPSTREAM, or "<precision>-torch": the same precision with the fused whole-step
# kernel (engine/models/gpt/cpu_step.py) switched off, i.e. every layer through torch's ops.
PATHS = ("catgrown", "model", "model-torch", "bf16", "bf16-torch", "int8")


def built_paths(model: Text2Semantic, paths: list[str]) -> dict:
    """Matmuls per path name, built once (the ``-torch`` variants without the fused step)."""
    from engine.models.gpt import cpu_step, precision
    unknown = sorted(set(paths) - set(PATHS))
    if unknown:
        raise SystemExit(f"unknown --precisions {unknown}; choose from {', '.join(PATHS)}")
    real = cpu_step.kernel
    out = {}
    for p in paths:
        if p == UPSTREAM:
            continue
        prec = p.removesuffix("-torch")
        cpu_step.kernel = (lambda: None) if p.endswith("-torch") else real
        try:
            out[p] = precision.build(model, prec)
        finally:
            cpu_step.kernel = real
    return out


def run_path(model: Text2Semantic, built: dict, p: str, phones, bert, prompt, n: int):
    from engine.models.gpt import precision
    if p == UPSTREAM:
        return growing_cache_decode(model, phones, bert, prompt, n, 1.35)
    prec = p.removesuffix("-torch")
    precision._BUILT[model] = {prec: built[p]}  # the path's own products (fingerprint holds)
    return decode(model, phones, bert, prompt,
                  DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35),
                                max_new_tokens=n, min_steps_before_eos=n,
                                precision=prec)).tokens


def compare_precisions(model: Text2Semantic, phones, bert, prompt, n: int, paths: list[str],
                       rounds: int) -> list[str]:
    """Greedy decoding of ``n`` tokens per path (``catgrown``: the loop with upstream's
    cat-grown cache, as the baseline), in A B C C B A order per round (a shared machine's
    load drifts; the mirrored order spreads it over every path). Reports the best wall and
    CPU-time rate per path and how many tokens equal the exact path's."""
    built = built_paths(model, paths)
    for p in paths:  # warm the kernels outside the timings
        run_path(model, built, p, phones[:, :8], bert[:, :, :8], prompt[:, :8], 5)
    t = mirrored(paths, rounds, lambda p: run_path(model, built, p, phones, bert, prompt, n))
    walls, cpus, tokens, loads = t.walls, t.cpus, t.results, t.loads
    ref_name = "model-torch" if "model-torch" in tokens else "model"
    ref = tokens.get(ref_name)
    lines = [f"precision paths, {torch.get_num_threads()} thread(s), {n} tokens, {rounds} "
             f"mirrored round(s), load avg {min(loads):.1f}-{max(loads):.1f}:"]
    base_path = UPSTREAM if UPSTREAM in cpus else "model"
    base = min(cpus.get(base_path, [0.0])) or None
    for p in paths:
        eq = [] if ref is None else (tokens[p] == ref).tolist()
        first = next((i for i, ok in enumerate(eq) if not ok), n)
        same = "" if ref is None else (f"; tokens equal to {ref_name}'s: {sum(eq)}/{n}, "
                                       f"first difference at {first}")
        speed = "" if base is None else f" ({base / min(cpus[p]):.2f}x {base_path} by CPU time)"
        lines.append(f"  {p}: best {n / min(walls[p]):.1f} tok/s wall, "
                     f"{n / min(cpus[p]):.1f} tok/s by CPU time{speed}{same}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=300)
    ap.add_argument("--no-cache-tokens", type=int, default=40)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    ap.add_argument("--out", default="")
    ap.add_argument("--precisions", default="",
                    help="comma list of paths to compare (" + ",".join(PATHS) + "); "
                         "runs only that comparison")
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dtype = getattr(torch, a.dtype)
    model = Text2Semantic(GptConfig()).to(a.device, dtype).eval()
    g = torch.Generator().manual_seed(1)
    phones = torch.randint(0, 732, (1, 30), generator=g)
    bert = torch.randn(1, 1024, 30, generator=g) * 0.1
    prompt = torch.randint(0, 1024, (1, 150), generator=g)
    if a.precisions:
        text = "\n".join(compare_precisions(model, phones.to(a.device), bert.to(a.device, dtype),
                                             prompt.to(a.device), a.tokens,
                                             a.precisions.split(","), a.rounds))
        print(text)
        if a.out:
            with open(a.out, "a", encoding="utf-8") as f:
                f.write(f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {text}\n")
        return
    opts = DecodeOptions(sampling=Sampling(top_k=1, repetition_penalty=1.35),
                         max_new_tokens=a.tokens, min_steps_before_eos=a.tokens)
    decode(model, phones[:, :8], bert[:, :, :8], prompt[:, :8],
           DecodeOptions(sampling=opts.sampling, max_new_tokens=5, min_steps_before_eos=5))
    sync = torch.cuda.synchronize if a.device.startswith("cuda") else (lambda: None)
    sync()
    w0, c0 = time.perf_counter(), time.process_time()
    r = decode(model, phones, bert, prompt, opts)
    sync()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    n = len(r.tokens)
    lines = [f"full-size v2 GPT, {a.device} {a.dtype}, {a.threads} thread(s), 30 phonemes + "
             f"150-token prompt: KV cache {n} tokens in {wall:.2f} s = **{n / wall:.1f} tok/s** "
             f"(by CPU time {n / cpu:.1f} tok/s)"]
    if a.no_cache_tokens and a.dtype == "float32":
        with torch.inference_mode():
            k = a.no_cache_tokens
            w0 = time.perf_counter()
            ref = no_cache_decode(model.cpu() if a.device == "cpu" else model, phones.to(a.device),
                                  bert.to(a.device), prompt.to(a.device), k, 1.35)
            sync()
            nc = time.perf_counter() - w0
        same = torch.equal(ref.cpu(), r.tokens[:k].cpu())
        lines.append(f"  no cache: {k} tokens in {nc:.2f} s = {k / nc:.1f} tok/s "
                     f"(tokens identical to the cached run: {same})")
    if a.device == "cpu" and a.dtype == "float32":
        w0, c0 = time.perf_counter(), time.process_time()
        grown = growing_cache_decode(model, phones, bert, prompt, n, 1.35)
        gw, gc = time.perf_counter() - w0, time.process_time() - c0
        lines.append(f"  cat-grown cache (upstream's way of caching), same run: {n / gw:.1f} tok/s "
                     f"(by CPU time {n / gc:.1f}); ours is {gw / wall:.2f}x faster "
                     f"(tokens identical: {torch.equal(grown, r.tokens)})")
        floor = weights_floor(model)
        lines.append(f"  memory floor (one pass over the weights, same thread count): {floor * 1e3:.1f} ms/token "
                     f"= {1 / floor:.1f} tok/s at most; that floor is {100 * floor * n / wall:.0f}% of the "
                     f"measured time per token")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append(f"  peak RSS {rss:.0f} MiB; torch {torch.__version__}; {platform.processor() or platform.machine()}, "
                 f"{os.cpu_count()} cores; load avg {os.getloadavg()[0]:.1f}")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "a", encoding="utf-8") as f:
            f.write(f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {text}\n")


if __name__ == "__main__":
    main()
