"""The GPU check (under 8 minutes on one GPU): on a generated data set, the batch-size probe
for SoVITS and GPT, a few hundred training steps of each at full size with fp16 (s/step,
peak memory), then SoVITS decoding's real-time factor (from the exported weights) and GPT's
greedy decoding tokens/s, eager beside the CUDA-graph step (engine/models/gpt/graph.py), for
one row and for a batch of pieces. Writes ``bench/results/gpu.md`` with the card's name.

The box it runs on is offline, so nothing is downloaded: the data set is synthetic (tones
with an envelope as audio, random HuBERT features, random codes and phonemes), models start
from random weights (speed and memory do not depend on the weights), and synthesis is timed
per model (no BERT/HuBERT front end).

    .venv/bin/python bench/gpu_check.py                 # GPU: full size, fp16
    .venv/bin/python bench/gpu_check.py --reduced       # CPU, tiny models, a few steps (the
                                                        # test suite runs this so it cannot rot)
"""
from __future__ import annotations

import argparse
import shutil
import json
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

HERE = Path(__file__).resolve().parent
SLUG = "gpucheck"
PHONES = ["HH", "AH0", "L", "OW1", "W", "ER1", "D", "T", "S", "IY1", "N", "AA1", "K", "EH1", "M"]
TINY_GPT = {"embedding_dim": 16, "hidden_dim": 16, "head": 2, "linear_units": 32, "n_layer": 1}


def make_dataset(root: Path, n: int, seconds: tuple[float, float], seed: int = 0) -> Path:
    """A project with a formatted (1A) data set of ``n`` synthetic clips."""
    from engine.project import create_project

    create_project(root, "GPU check", language="en", slug=SLUG)
    exp = root / "logs" / SLUG
    for sub in ("3-bert", "4-cnhubert", "5-wav32k"):
        (exp / sub).mkdir(parents=True, exist_ok=True)
    rng, g = random.Random(seed), torch.Generator().manual_seed(seed)
    text, sem = [], ["item_name\tsemantic_audio"]
    for i in range(n):
        name = f"clip_{i:03d}.wav"
        secs = rng.uniform(*seconds)
        t = np.arange(int(secs * 32000)) / 32000
        f0 = rng.uniform(100, 250)
        wav = 0.3 * np.sin(2 * np.pi * f0 * t) * np.sin(np.pi * t / secs) ** 2
        sf.write(exp / "5-wav32k" / name, wav.astype(np.float32), 32000, subtype="PCM_16")
        frames = len(t) // 640
        torch.save(torch.randn(1, 768, frames - 1, generator=g), exp / "4-cnhubert" / f"{name}.pt")
        codes = [rng.randrange(1024) for _ in range(frames // 2)]
        phones = [rng.choice(PHONES) for _ in range(max(8, int(secs * 10)))]
        text.append(f"{name}\t{' '.join(phones)}\tNone\tclip {i}")
        sem.append(f"{name}\t{' '.join(map(str, codes))}")
    (exp / "2-name2text.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
    (exp / "6-name2semantic.tsv").write_text("\n".join(sem) + "\n", encoding="utf-8")
    return root


def _drain(events, sink: list) -> object:
    """Run a step generator, keeping its events; returns its return value."""
    while True:
        try:
            sink.append(next(events))
        except StopIteration as stop:
            return stop.value


def _rate(events: list) -> float:
    from engine.events import Progress

    rates = [e.metrics["s_per_step"] for e in events if isinstance(e, Progress)
             and "s_per_step" in e.metrics]
    tail = rates[len(rates) // 2:] or rates  # after warm-up
    return statistics.mean(tail) if tail else float("nan")


def _failed(events: list) -> str:
    from engine.events import Failed

    bad = [e for e in events if isinstance(e, Failed)]
    return bad[0].reason if bad else ""


def _peak_reset(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_gb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # process RSS, GB


def run_check(root: Path, reduced: bool, steps: tuple[int, int], ddp_cpu: bool = False) -> dict:
    from engine.layout import Layout
    from engine.models.sovits.config import tiny_config
    from engine.runner import drive
    from engine.train.gpt.request import GptTrainRequest
    from engine.train.gpt.trainer import run_gpt_training
    from engine.train.probe_trials import BudgetMeter, CudaMeter, probe_stage
    from engine.train.sovits.loop import run_sovits_training
    from engine.train.sovits.request import SovitsTrainRequest

    device = torch.device("cuda" if torch.cuda.is_available() and not reduced else "cpu")
    if device.type == "cuda":
        name = torch.cuda.get_device_name(0)
        mem_gb = torch.cuda.get_device_properties(0).total_memory / 2**30
        meter, budget = CudaMeter(), None
    else:
        torch.set_num_threads(1)  # tiny models: more threads only contend on a small box
        name, mem_gb = f"CPU ({platform.processor() or platform.machine()})", 0.25
        meter, budget = BudgetMeter(2**28), 2**28  # an injected 256 MB "card"
    out: dict = {"device": name, "memory_gb": round(mem_gb, 2), "reduced": reduced,
                 "torch": torch.__version__}
    common = dict(project_root=str(root), slug=SLUG, device=device.type)
    sov = SovitsTrainRequest(**common, fp16=True, epochs=1, save_every_epoch=1,
                             **({"model_config": tiny_config().to_dict(), "disc_width": 16,
                                 "threads": 1} if reduced else {}))
    gpt = GptTrainRequest(**common, precision="auto", save_every=1, max_sec=20,
                          **({"model": TINY_GPT} if reduced else {}))
    logs: list = []
    for stage, req, key in (("SoVITS", sov, "sovits"), ("GPT", gpt, "gpt")):
        t0 = time.perf_counter()
        batch = _drain(probe_stage(stage, req, device, name, mem_gb, start=2 if reduced else 8,
                                   meter=meter, budget_bytes=budget,
                                   limit=4 if reduced else None), logs)
        out[f"{key}_probe_batch"] = batch
        out[f"{key}_probe_s"] = round(time.perf_counter() - t0, 1)
    # Training at the probed batch (capped at what the generated set fills).
    b = max(1, min(out["sovits_probe_batch"] or 1, 2 if reduced else 32))
    sreq = SovitsTrainRequest(**{**sov.__dict__, "batch_size": b,
                                 "min_items_per_epoch": steps[0] * b, "log_every": 10_000})
    _peak_reset(device)
    ev: list = []
    t0 = time.perf_counter()
    for e in drive("train", run_sovits_training, sreq):
        ev.append(e)
    out.update(sovits_batch=b, sovits_steps=steps[0], sovits_s_per_step=round(_rate(ev), 4),
               sovits_peak_gb=round(_peak_gb(device), 2),
               sovits_wall_s=round(time.perf_counter() - t0, 1), sovits_failed=_failed(ev))
    gb = max(1, min(out["gpt_probe_batch"] or 1, 32))
    greq = GptTrainRequest(**{**gpt.__dict__, "batch_size": gb, "max_batches": steps[1],
                              "epochs": 50})
    _peak_reset(device)
    ev = []
    t0 = time.perf_counter()
    for e in drive("train", run_gpt_training, greq):
        ev.append(e)
    out.update(gpt_batch=gb, gpt_steps=steps[1], gpt_s_per_step=round(_rate(ev), 4),
               gpt_peak_gb=round(_peak_gb(device), 2),
               gpt_wall_s=round(time.perf_counter() - t0, 1), gpt_failed=_failed(ev))
    out.update(synth_rates(Layout(root, SLUG), device, reduced))
    n_gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    if n_gpus > 1 or ddp_cpu:
        gpus = tuple(str(i) for i in range(min(n_gpus, 2))) if n_gpus > 1 else ()
        out.update(ddp_rates(root, sreq, 2, gpus))
    return out


@torch.inference_mode()
def synth_rates(layout, device: torch.device, reduced: bool) -> dict:  # noqa: ANN001
    """SoVITS decode real-time factor with the exported weights; GPT greedy tokens/s."""
    from engine.models.sovits import load_sovits, reference_spec, synthesize
    from engine.synth.weights import sovits_files

    out: dict = {}
    files = sovits_files(layout)
    if files:
        model = load_sovits(files[-1], device=device)
        ref, _ = sf.read(sorted((layout.exp_dir / "5-wav32k").glob("*.wav"))[0], dtype="float32")
        refs = reference_spec(ref).to(device)
        codes, phones = list(range(0, 1000, 5))[:150], [5, 6, 7, 8] * 15  # 6 s of speech
        synthesize(model, codes[:40], phones[:20], refs)  # warm-up
        t0 = time.perf_counter()
        audio = synthesize(model, codes, phones, refs)
        if device.type == "cuda":
            torch.cuda.synchronize()
        out["sovits_rtf"] = round((time.perf_counter() - t0) / (len(audio) / 32000), 4)
    out.update(gpt_decode_rates(device, reduced))
    return out


GPT_BATCH = 4  # pieces decoded together (engine.synth.batching)


@torch.inference_mode()
def gpt_decode_rates(device: torch.device, reduced: bool) -> dict:
    """GPT greedy tokens/s: the exact (eager) loop beside the CUDA-graph step, one row and a
    batch of GPT_BATCH rows (summed over rows), and whether the graph's tokens equal the
    eager ones. On the reduced CPU run the "graph" figures are the fixed-shape step without
    graphs (capture needs CUDA): they prove the code path runs, not its speed."""
    from engine.models.gpt import DecodeOptions, GptConfig, Sampling, Text2Semantic, decode
    from engine.models.gpt.batch import decode_batch
    from engine.models.gpt.graph import _RUNNERS

    cfg = GptConfig.from_upstream({**GptConfig().to_upstream(), **(TINY_GPT if reduced else {})})
    torch.manual_seed(0)
    gpt = Text2Semantic(cfg).to(device).eval()
    n = 20 if reduced else 300
    phones = torch.randint(0, 700, (1, 30), device=device)
    bert = torch.zeros(1, 1024, 30, device=device)
    prompt = torch.randint(0, 1024, (1, 150), device=device)
    graph = "graph" if device.type == "cuda" else "static"
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    out: dict = {"gpt_graph_mode": graph}
    tokens = {}
    for mode, key in (("off", "gpt_tokens_per_s"), (graph, "gpt_graph_tokens_per_s")):
        opts = DecodeOptions(sampling=Sampling(top_k=1), max_new_tokens=n,
                             min_steps_before_eos=n, static=mode)
        # The first run of the same length warms up (and captures every window's graph:
        # its rate, captures included, is the *_cold figure); the second is timed.
        t0 = time.perf_counter()
        decode(gpt, phones, bert, prompt, opts)
        sync()
        out[key.replace("_tokens", "_cold_tokens")] = round(n / (time.perf_counter() - t0), 1)
        t0 = time.perf_counter()
        tokens[mode] = decode(gpt, phones, bert, prompt, opts).tokens
        sync()
        out[key] = round(len(tokens[mode]) / (time.perf_counter() - t0), 1)
        rows = [phones[0]] * GPT_BATCH, [bert[0]] * GPT_BATCH
        decode_batch(gpt, *rows, prompt[0], opts)
        sync()
        t0 = time.perf_counter()
        got = decode_batch(gpt, *rows, prompt[0], opts)
        sync()
        out[key.replace("_tokens", f"_batch{GPT_BATCH}_tokens")] = round(
            sum(len(r.tokens) for r in got.rows) / (time.perf_counter() - t0), 1)
    same = (tokens["off"].cpu() == tokens[graph].cpu()).tolist()
    out["gpt_graph_same_tokens"] = all(same)
    out["gpt_graph_first_difference"] = next((i for i, ok in enumerate(same) if not ok), None)
    out["gpt_graph_captures"] = sum(r.captures for r in _RUNNERS.get(gpt, {}).values())
    return out


def ddp_rates(root: Path, sreq, procs: int, gpus: tuple[str, ...]) -> dict:  # noqa: ANN001
    """SoVITS under torchrun (one process per GPU, or gloo CPU processes), launched the way
    the Train step launches it, at the same per-process batch: s/step per rank and the
    epoch's throughput beside the one-process run above."""
    import dataclasses

    from engine.events import StopToken
    from engine.train.launch import Launch, Placement, run_stages

    place = Placement(procs, gpus)
    folder = root / "runs" / "gpu-check-ddp"
    # a fresh experiment state: the one-process run's checkpoints would be resumed
    req = dataclasses.replace(sreq, slug=SLUG + "-ddp")
    exp = root / "logs"
    if (exp / SLUG).is_dir() and not (exp / req.slug).exists():
        shutil.copytree(exp / SLUG, exp / req.slug,
                        ignore=shutil.ignore_patterns("logs_s2*", "logs_s1*"))
    x = Launch("SoVITS", "sovits", req, place, folder, str(folder))
    ev: list = []
    t0 = time.perf_counter()
    for _, e in run_stages([x], StopToken()):
        ev.append(e)
    return {"ddp_processes": procs, "ddp_gpus": ",".join(gpus) or "cpu (gloo)",
            "ddp_s_per_step": round(_rate(ev), 4), "ddp_wall_s": round(time.perf_counter() - t0, 1),
            "ddp_failed": _failed(ev) or (x.error.reason if x.error else "")}


def write_report(fig: dict, path: Path) -> None:
    mode = "reduced (CPU, tiny models; proves the script runs, not a GPU figure)" \
        if fig["reduced"] else "full size, fp16 autocast"
    rows = [("Card", f"{fig['device']} ({fig['memory_gb']} GB)"), ("Mode", mode),
            ("torch", fig["torch"]),
            ("SoVITS probe: batch that fits", f"{fig['sovits_probe_batch']} ({fig['sovits_probe_s']} s)"),
            ("GPT probe: batch that fits", f"{fig['gpt_probe_batch']} ({fig['gpt_probe_s']} s)"),
            ("SoVITS training", f"{fig['sovits_steps']} steps at batch {fig['sovits_batch']}: "
                                f"{fig['sovits_s_per_step']} s/step, peak {fig['sovits_peak_gb']} GB"),
            ("GPT training", f"{fig['gpt_steps']} steps at batch {fig['gpt_batch']}: "
                             f"{fig['gpt_s_per_step']} s/step, peak {fig['gpt_peak_gb']} GB"),
            ("SoVITS decode RTF", str(fig.get("sovits_rtf", "—"))),
            ("GPT greedy decoding, one row", f"{fig['gpt_tokens_per_s']} tokens/s eager, "
             f"{fig['gpt_graph_tokens_per_s']} tokens/s {fig['gpt_graph_mode']} "
             f"(tokens equal: {fig['gpt_graph_same_tokens']}; first run with its "
             f"{fig['gpt_graph_captures']} capture(s): {fig['gpt_graph_cold_tokens_per_s']})"),
            (f"GPT greedy decoding, {GPT_BATCH} rows",
             f"{fig[f'gpt_batch{GPT_BATCH}_tokens_per_s']} tokens/s eager, "
             f"{fig[f'gpt_graph_batch{GPT_BATCH}_tokens_per_s']} tokens/s "
             f"{fig['gpt_graph_mode']} (summed over rows)")]
    lines = ["# GPU check (bench/gpu_check.py)", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M')}; generated data set (synthetic clips), "
             "random weights, offline.", "", "| figure | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    if "ddp_processes" in fig:
        lines.append(f"| SoVITS DDP, {fig['ddp_processes']} processes on "
                     f"{fig['ddp_gpus']} | {fig['ddp_s_per_step']} s/step per process at batch "
                     f"{fig['sovits_batch']} each (one process: {fig['sovits_s_per_step']}) |")
    for key in ("sovits_failed", "gpt_failed", "ddp_failed"):
        if fig.get(key):
            lines.append(f"\n{key}: {fig[key]}")
    lines += ["", "```json", json.dumps(fig, indent=1), "```", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reduced", action="store_true", help="CPU, tiny models, a few steps")
    ap.add_argument("--out", default=str(HERE / "results" / "gpu.md"))
    ap.add_argument("--work", default="", help="folder for the generated project (default: a temp dir)")
    ap.add_argument("--ddp-cpu", action="store_true",
                    help="also run the 2-process DDP step over gloo on the CPU (it runs by "
                         "itself on CUDA when 2+ GPUs are visible)")
    a = ap.parse_args(argv)
    if not a.reduced and not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU visible; run it on a GPU box, or pass --reduced for the "
              "CPU smoke run.", file=sys.stderr)
        return 2
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="gsv-gpu-check-"))
    n, secs = (6, (1.2, 2.5)) if a.reduced else (96, (3.0, 10.0))
    root = make_dataset(work / "project", n, secs)
    fig = run_check(root, a.reduced, (4, 6) if a.reduced else (200, 300), a.ddp_cpu)
    write_report(fig, Path(a.out))
    print(Path(a.out).read_text(encoding="utf-8"))
    return 0 if not (fig["sovits_failed"] or fig["gpt_failed"] or fig.get("ddp_failed")) else 1


if __name__ == "__main__":
    sys.exit(main())
