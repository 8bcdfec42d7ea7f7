"""GPT decode speed: ours beside gpt-sovits-cpufast and genie-tts, on the same weights, in one run.

    .venv/bin/python -m bench gpt_peers [--threads 1,2] [--ours catgrown,model,bf16,int8] ...
    .venv/bin/python -m bench.gpt_peers --help

Full-size v2 GPT with random seeded weights (as bench/gpt_decode.py; the EOS row of the
output head is zeroed so no loop stops early), saved with our exporter in upstream's .ckpt
format; every implementation loads that file. 30 phonemes + a 150-token prompt, 300 greedy
tokens at repetition penalty 1.35. Each run is its own process, in mirrored order
(A B C .. C B A per round) at each thread count, with the network off for every run
(``unshare -n`` where allowed, offline env vars always). The peers live in a throw-away venv
outside the repo (bench/_gpt_peers_venv.py); the runs themselves are bench/_gpt_peers_worker.py.
Appends a dated section to bench/results/gpt.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("_gpt_peers_worker.py")
PEERS = ("cpufast", "genie")
LABELS = {"catgrown": "catgrown: OUR re-implementation of upstream's loop (torch.cat-grown cache, fp32)",
          "model": "ours, exact (default)", "bf16": "ours, bf16 (opt-in)", "int8": "ours, int8 (opt-in)",
          "cpufast": "gpt-sovits-cpufast 0.1.0 (its `infer_panel`, torch)",
          "genie": "genie-tts 2.0.2 (its ONNX graphs, ONNX Runtime 1.22.1, fp32)"}
STUBS = [
    "peers installed with `--no-deps` plus torch 2.13.0 (CPU), numpy<2, onnx, onnxruntime 1.22.1: "
    "their text frontends, web UIs, servers and model downloaders are not installed and never imported",
    "genie-tts: its package `__init__` is not run (it imports the frontend, server, audio player and "
    "downloader); its converter classes and graphs are imported from the installed package",
    "genie-tts: its converter also reads three SoVITS tensors (SSL projection, codebook) that turn "
    "reference-audio features into prompt codes; the bench writes a stub .pth with just those (random) "
    "and feeds our 150 prompt codes to its first-stage decoder instead of the encoder's codes",
    "genie-tts: the bench drives its three graphs (encoder, first-stage, stage decoder) as its "
    "`GENIE.t2s_cpu` does, for exactly the asked number of tokens (its EOS flag is counted, not obeyed); "
    "threads: `intra_op_num_threads`, optimisation level as its ModelManager",
    "gpt-sovits-cpufast: loaded as its `TTS.init_t2s_weights` does; `infer_panel` with top_k=1 "
    "(its sampler then keeps only the argmax) and `early_stop_num` = tokens - 1, so it stops at the count",
]
GENIE_POSITIONS = (
    "genie-tts's graphs number text and audio positions from 1 where upstream (and ours) start at 0. "
    "Found once (2026-12-07) by feeding its first-stage decoder our text embedding: its prefill logits "
    "equal ours computed with audio positions from 1 to 1.7e-6 (0.096 apart with positions from 0), "
    "and its encoder's output equals our text embedding with positions from 1. So it runs our weights as "
    "it means to, but its tokens differ from upstream's on any weights; its greedy copy shows how far.")


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench gpt_peers", description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts (default 1,2)")
    ap.add_argument("--ours", default="catgrown,model,bf16,int8",
                    help="our paths: catgrown and DecodeOptions precisions (model, bf16, int8, ...); "
                         "'<precision>-torch' runs it with the fused step off")
    ap.add_argument("--peers", default=",".join(PEERS), help="peers to run (cpufast,genie; '' for none)")
    ap.add_argument("--tokens", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=1, help="mirrored rounds per thread count (2 runs each)")
    ap.add_argument("--venv", type=Path, default=None, help="folder for the peers' venv (default: a cache folder)")
    ap.add_argument("--fresh-venv", action="store_true", help="rebuild the peers' venv")
    ap.add_argument("--with-deps", action="store_true", help="install the peers with their declared dependencies")
    ap.add_argument("--run-timeout", type=int, default=300, help="seconds per run before it counts as failed")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "gpt.md"), help="results file (--out= : print only)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (weights, ONNX files, run JSON)")
    if argv is None:  # under ``python -m bench gpt_peers …`` the leading words are bench names
        argv = sys.argv[1:]
        while argv and not argv[0].startswith("-"):
            argv = argv[1:]
    return ap.parse_args(argv)


def _net_off() -> list[str]:
    try:
        ok = subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    return ["unshare", "-n"] if ok else []


def _env(threads: int, impl: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)
    if impl.startswith("ours:") or impl == "catgrown":
        env["PYTHONPATH"] = str(REPO)
        if impl.endswith("-torch"):
            env["GSV_GPT_FUSED_STEP"] = "0"
    return env


def make_data(work: Path) -> None:
    """The bench's weights (seeded, full size) in upstream's .ckpt format, and its inputs."""
    import torch
    from engine.models.gpt import GptConfig, Text2Semantic, export_gpt
    torch.manual_seed(0)
    model = Text2Semantic(GptConfig()).eval()
    with torch.no_grad():  # EOS logit 0 against 1024 random ones: no implementation stops early
        model.ar_predict_layer.weight[model.cfg.EOS].zero_()
    export_gpt(model, work, "bench", 1).rename(work / "gpt.ckpt")
    g = torch.Generator().manual_seed(1)
    torch.save({"phones": torch.randint(0, 732, (1, 30), generator=g),
                "bert": torch.randn(1, 1024, 30, generator=g) * 0.1,
                "prompt": torch.randint(0, 1024, (1, 150), generator=g)}, work / "inputs.pt")


class Runner:
    def __init__(self, work: Path, peer_py: Path | None, tokens: int, timeout: int):
        self.work, self.peer_py, self.tokens, self.timeout = work, peer_py, tokens, timeout
        self.net = _net_off()
        self.count = 0

    def run(self, impl: str, threads: int) -> dict:
        self.count += 1
        out = self.work / "runs" / f"{self.count:03d}-{impl.replace(':', '_')}-{threads}.json"
        out.parent.mkdir(exist_ok=True)
        ours = impl.startswith("ours:") or impl == "catgrown"
        py = Path(sys.executable) if ours else self.peer_py
        cmd = [*self.net, str(py), str(WORKER), impl, "--threads", str(threads), "--data",
               str(self.work), "--tokens", str(self.tokens), "--out", str(out)]
        try:
            r = subprocess.run(cmd, cwd=REPO if ours else self.work, env=_env(threads, impl),
                               capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"ran past {self.timeout} s"}
        if r.returncode or not out.exists():
            tail = [ln for ln in (r.stderr or r.stdout).strip().splitlines() if ln.strip()]
            return {"error": (tail[-1] if tail else f"exit {r.returncode}")[:300]}
        return json.loads(out.read_text(encoding="utf-8"))


def measure(runner: Runner, impls: list[str], threads: list[int], rounds: int) -> dict:
    res: dict = {}
    for t in threads:
        failed: set[str] = set()
        for _ in range(rounds):
            for impl in impls + impls[::-1]:
                if impl in failed:
                    continue
                r = runner.run(impl, t)
                print(f"  {impl} @ {t} thread(s): " + (r["error"] if "error" in r else
                      f"{len(r['tokens']) / r['wall']:.1f} tok/s wall, {len(r['tokens']) / r['cpu']:.1f} by CPU, "
                      f"load {r['load'][0]:.1f}"), flush=True)
                res.setdefault((impl, t), []).append(r)
                if "error" in r:
                    failed.add(impl)
    return res


def _name(impl: str) -> str:
    return impl[5:] if impl.startswith("ours:") else impl


def table(res: dict, impls: list[str], threads: list[int], n: int, greedy: dict | None) -> list[str]:
    head = " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in threads)
    lines = [f"| GPT decode | {head} | tokens equal to ours exact |", "|---" * (len(threads) + 2) + "|"]
    for impl in impls:
        cells, eq = [], []
        for t in threads:
            runs = [r for r in res.get((impl, t), []) if "error" not in r]
            err = next((r["error"] for r in res.get((impl, t), []) if "error" in r), None)
            if not runs:
                cells.append(f"failed: {err}" if err else "–")
                continue
            best_w = min(r["wall"] for r in runs)
            best_c = min(r["cpu"] for r in runs)
            cells.append(f"{n / best_w:.1f} ({n / best_c:.1f} CPU)")
            ref = next((r["tokens"] for r in res.get(("ours:model", t), []) if "error" not in r), None)
            if ref is not None:
                same = sum(a == b for a, b in zip(runs[-1]["tokens"], ref))
                first = next((i for i, (a, b) in enumerate(zip(runs[-1]["tokens"], ref)) if a != b), n)
                eq.append(f"{same}/{n}" + (f" (first diff {first})" if same < n else "") + f" @{t}")
        note = ", ".join(eq) or "–"
        if impl == "genie":
            note = "sampled in its graph (top-k 15), not comparable"
            if greedy:
                note += f"; greedy copy of its graphs: {greedy['same']}/{n}, first diff {greedy['first']}"
        lines.append(f"| {LABELS.get(_name(impl), 'ours, ' + _name(impl))} | {' | '.join(cells)} | {note} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    from bench._gpt_peers_venv import SetupError, ensure_venv, versions
    threads = [int(t) for t in a.threads.split(",") if t]
    ours = [p if p == "catgrown" else f"ours:{p}" for p in a.ours.split(",") if p]
    peers = [p for p in a.peers.split(",") if p]
    if set(peers) - set(PEERS):
        print(f"Unknown peer(s) {sorted(set(peers) - set(PEERS))}; choose from {', '.join(PEERS)}.")
        return 2
    t0 = time.time()
    work = Path(tempfile.mkdtemp(prefix="gsv-gpt-peers-"))
    try:
        peer_py = None
        if peers:
            try:
                peer_py = ensure_venv(a.venv, a.fresh_venv, a.with_deps)
            except SetupError as e:
                print(str(e))
                return 2
        print(f"  work folder {work}; writing weights", flush=True)
        make_data(work)
        runner = Runner(work, peer_py, a.tokens, a.run_timeout)
        notes = []
        if "genie" in peers:
            r = runner.run("genie-convert", 1)
            if "error" in r:
                notes.append(f"genie-tts: its converter failed on our weights: {r['error']}")
                peers.remove("genie")
        impls = ours + peers
        res = measure(runner, impls, threads, a.rounds)
        greedy = None
        if "genie" in peers and ("ours:model", threads[0]) in res:
            g = runner.run("genie-greedy", threads[0])
            ref = next((r["tokens"] for r in res[("ours:model", threads[0])] if "error" not in r), None)
            if "error" not in g and ref:
                pairs = list(zip(g["tokens"], ref))
                greedy = {"same": sum(x == y for x, y in pairs),
                          "first": next((i for i, (x, y) in enumerate(pairs) if x != y), a.tokens)}
        loads = [v for rs in res.values() for r in rs if "load" in r for v in r["load"]]
        vers = versions(peer_py) if peer_py else {}
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        text = [f"## {stamp}: GPT decode against the peers, one run (bench/gpt_peers.py)", "",
                f"Full-size v2 GPT, random seeded weights (EOS row of the head zeroed) saved by our exporter "
                f"as upstream's .ckpt and loaded by every row; 30 phonemes + 150-token prompt, {a.tokens} "
                f"greedy tokens, repetition penalty 1.35; tok/s by wall time, best of {2 * a.rounds} runs "
                f"in separate processes in mirrored order (CPU-time rate in brackets; at 2 threads it counts "
                f"both threads); {os.cpu_count()} cores, load average {min(loads, default=0):.1f}-"
                f"{max(loads, default=0):.1f} during the runs; network off for every run "
                f"({'unshare -n' if runner.net else 'offline env vars only'}); {time.time() - t0:.0f} s in all.",
                "", *table(res, impls, threads, a.tokens, greedy), ""]
        if vers:
            text.append("Peers' venv: " + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".")
        if peers:
            text += ["", "What the bench stubs or drives itself:", *[f"- {s}" for s in STUBS]]
        text += [f"- {n}" for n in notes]
        if greedy:
            text += ["", GENIE_POSITIONS]
        eos = sum(r.get("eos_signals", 0) for rs in res.values() for r in rs)
        if eos:
            text.append(f"\ngenie-tts raised its stop flag {eos} time(s) (ignored; tokens kept coming).")
        text += ["", "Raw runs (tok/s wall / by CPU time, load at start):"]
        for (impl, t), rs in res.items():
            text.append(f"  - {_name(impl)} @ {t}: " + "; ".join(
                r["error"] if "error" in r else
                f"{a.tokens / r['wall']:.1f} / {a.tokens / r['cpu']:.1f} (load {r['load'][0]:.1f})" for r in rs))
        exact = [res.get(("ours:model", t)) for t in threads]
        if len(threads) > 1 and all(exact) and all("error" not in r[-1] for r in exact):
            same = all(r[-1]["tokens"] == exact[0][-1]["tokens"] for r in exact)
            text.append(f"\nOurs exact gives the same tokens at {', '.join(map(str, threads))} threads: {same}.")
        out = "\n".join(text) + "\n"
        print(out)
        if a.out:
            with open(a.out, "a", encoding="utf-8") as f:
                f.write("\n" + out)
        return 0
    finally:
        if a.keep:
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
