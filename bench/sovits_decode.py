"""SoVITS v2 decode speed (full-size, random seeded weights) and training seconds per step.

Decode: 300 semantic tokens (12 s of audio at 32 kHz), 100 target phonemes, one 5 s reference,
noise scale 0.5, on CPU with 1 and 2 threads; best of ``--repeats`` after a warm-up.
Real-time factor = seconds to decode / seconds of audio (lower is faster). Training: seconds
per step of the tiny CPU config (batch 2) and, with ``--train-full``, of the full-size model
with upstream's discriminator (batch 1). Usage:
    .venv/bin/python -m bench sovits_decode        (or python bench/sovits_decode.py [opts])
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch

from engine.models.sovits.config import SovitsConfig, tiny_config
from engine.models.sovits.synthesizer import Synthesizer

OUT = Path(__file__).parent / "results" / "sovits.md"


MODES = {"wn": "fp32, as upstream computes it (weight norm per call, one pass)",
         "fp32": "fp32 default (folded weight norm, windowed late stages)",
         "bf16": "bf16 first 3 generator stages + windowed"}


def bench_decode(threads: int, tokens: int, repeats: int, mode: str,
                 version: str = "v2") -> tuple[float, float, float]:
    from engine.models.sovits.config import default_config

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Synthesizer(default_config(version)).eval()
    # Pro decodes with one speaker embedding per reference (computed once per reference
    # in synthesis, so not timed here)
    sv = [torch.randn(1, model.cfg.sv_dim)] if model.cfg.is_pro else None
    if mode == "wn":  # upstream's way: weight norm recomputed per call, one full pass
        model.dec.window_stage = len(model.dec.ups)
    else:
        model.prepare_inference(mode)
    codes = torch.randint(0, 1024, (1, 1, tokens))
    text = torch.randint(0, 732, (1, 100))
    ref = torch.rand(1, 1025, 250)
    # warm-up on a different length (a real session decodes sentences of varying length)
    model.decode(codes[:, :, : tokens * 2 // 3], text[:, :60], [ref], sv_emb=sv)
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        audio = model.decode(codes, text, [ref], sv_emb=sv)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    assert audio.shape[-1] == tokens * 2 * 640
    return min(walls), cpus[0], min(cpus)


def bench_train(full: bool, steps: int) -> float:
    from engine.models.sovits.discriminator import MultiPeriodDiscriminator
    from engine.train.sovits.data import Item, collate
    from engine.train.sovits.loop import _optimizers, _train_step
    from engine.train.sovits.request import SovitsTrainRequest

    torch.manual_seed(0)
    cfg = SovitsConfig() if full else tiny_config()
    net_g, net_d = Synthesizer(cfg), MultiPeriodDiscriminator(width=1 if full else 16)
    req = SovitsTrainRequest(project_root="", slug="bench")
    og, od, _ = _optimizers(net_g, net_d, req)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    t = 150  # 3 s clips
    items = [Item(torch.randn(768, t), torch.rand(1025, t), torch.rand(t * 640) * 0.2 - 0.1,
                  torch.randint(0, 732, (30,))) for _ in range(1 if full else 2)]
    seg = cfg.segment_frames
    b = collate(items, seg)
    _train_step(net_g, net_d, og, od, scaler, b, False, seg)  # warm-up
    w0 = time.perf_counter()
    for _ in range(steps):
        _train_step(net_g, net_d, og, od, scaler, b, False, seg)
    return (time.perf_counter() - w0) / steps


def bench_versions(tokens: int, repeats: int, out: Path) -> None:
    """v2 and v2ProPlus (and v2Pro) decode, fp32 default path, one thread, in one run."""
    audio_s = tokens * 2 * 640 / 32000
    load = os.getloadavg()[0]
    rows = []
    for version in ("v2", "v2ProPlus", "v2Pro"):
        wall, cpu_first, cpu = bench_decode(1, tokens, repeats, "fp32", version)
        rows.append((version, wall, cpu_first, cpu))
        print(f"{version}: {wall:.2f} s wall, {cpu:.2f} s CPU best, RTF {cpu / audio_s:.3f} CPU",
              flush=True)
    base = rows[0][3]
    lines = ["# SoVITS decode: v2 next to v2Pro/v2ProPlus", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared; 1-min load average "
             f"{load:.1f} at start), Python {platform.python_version()}, torch {torch.__version__}; "
             "`python bench/sovits_decode.py --versions`. Full-size random seeded weights, "
             f"{tokens} tokens = {audio_s:.0f} s of audio, 100 phonemes, one reference (Pro: its "
             f"speaker embedding given), fp32 default path, one thread, best of {repeats} after "
             "a warm-up. CPU time is the steadier comparison on a shared machine.", "",
             "| Version | Wall best (s) | CPU first / best (s) | RTF CPU (best) | CPU vs v2 |",
             "|---|---|---|---|---|"]
    for version, wall, cpu_first, cpu in rows:
        lines.append(f"| {version} | {wall:.2f} | {cpu_first:.2f} / {cpu:.2f} | "
                     f"{cpu / audio_s:.3f} | {cpu / base:.2f}× |")
    lines.append("")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--train-full", action="store_true")
    ap.add_argument("--versions", action="store_true",
                    help="only v2 vs v2Pro/v2ProPlus decode, into results/sovits_v2pro.md")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv or [])
    if args.versions:
        bench_versions(args.tokens, args.repeats,
                       args.out if args.out != OUT else OUT.with_name("sovits_v2pro.md"))
        return
    audio_s = args.tokens * 2 * 640 / 32000
    load = os.getloadavg()[0]
    rows = []
    for threads in (1, 2):
        for mode in MODES:
            wall, cpu_first, cpu = bench_decode(threads, args.tokens, args.repeats, mode)
            rows.append((threads, mode, wall, cpu_first, cpu))
            print(f"threads {threads} {mode}: {wall:.2f} s wall, {cpu_first:.2f}/{cpu:.2f} s CPU "
                  f"first/best, RTF {wall / audio_s:.3f} wall / {cpu / audio_s:.3f} CPU", flush=True)
    torch.set_num_threads(1)
    tiny = bench_train(False, 5)
    print(f"train tiny: {tiny:.2f} s/step", flush=True)
    full = bench_train(True, 2) if args.train_full else None
    if full is not None:
        print(f"train full: {full:.2f} s/step", flush=True)

    lines = [
        "# SoVITS benchmarks", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared; 1-min load average "
        f"{load:.1f} at start), Python {platform.python_version()}, torch {torch.__version__}; "
        "`python -m bench sovits_decode`.", "",
        f"## Decode: full-size v2, {args.tokens} tokens = {audio_s:.0f} s of audio, 100 phonemes, "
        "one reference", "",
        "%d runs after a warm-up on a shorter input. RTF = decode seconds / audio seconds "
        "(lower is faster). Upstream on this machine: 10.6 s wall / 7.56 s CPU for the same 300 "
        "tokens on one thread (RTF 0.88 wall, 0.63 CPU; issue 6). The machine is shared, so "
        "wall times swing with other people's jobs; CPU time is the steadier comparison. "
        "The default (`prepare_inference()`, what `load_sovits` returns) caches the weight-normed "
        "kernels and runs the thin, long late generator stages over cache-sized windows "
        "(exactly the same numbers); 'bf16' is `prepare_inference(\"bf16\")` / `load_sovits(..., precision=\"bf16\")`: "
        "the wide first three generator stages in bfloat16 (AMX on this CPU), ~1%% relative "
        "RMS difference from fp32. The timed input is longer than the warm-up, so each timed "
        "run's first repeat builds new oneDNN kernels, as a new sentence does." % args.repeats, "",
        "| Threads | Mode | Wall best (s) | CPU first / best (s) | RTF wall | RTF CPU (best) | "
        "vs upstream 1 thread: wall | CPU first / best |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for threads, mode, wall, cpu_first, cpu in rows:
        by_cpu = f"{7.56 / cpu_first:.2f}× / {7.56 / cpu:.2f}×" if threads == 1 else "—"
        lines.append(f"| {threads} | {MODES[mode]} | {wall:.2f} | {cpu_first:.2f} / {cpu:.2f} | "
                     f"{wall / audio_s:.3f} | {cpu / audio_s:.3f} | {10.6 / wall:.2f}× | {by_cpu} |")
    lines += ["", "## Training seconds per step (CPU, one thread)", "",
              "| Model | Batch | s/step |", "|---|---|---|",
              f"| tiny test config (`tiny_config()`: 16-frame slices, discriminator width 1/16) | 2 | {tiny:.2f} |"]
    if full is not None:
        lines.append(f"| full-size v2 + upstream discriminator | 1 | {full:.2f} |")
    lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
