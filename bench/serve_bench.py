"""``gsv serve`` under load on CPU: a real server process with the full-size random voice of
``bench/synth_pipeline.py`` (24-layer GPT, SoVITS v2, HuBERT-base; random weights never say
EOS, so each piece is 101 tokens = 4.04 s of audio), clients on loopback sending streamed
``/tts`` requests (two pieces each, cut4) and measuring, per request, the time to the first
audio byte and to the last one. One client, then N at once (each sends its requests back to
back). Requests/s = finished requests / wall time of that round.

One voice has one worker (its models speak one request at a time), so concurrent clients
queue: throughput stays that of one, and the first chunk waits for the requests ahead.
Usage: ``.venv/bin/python -m bench serve_bench [--clients 1 4] [--requests 3 2]``."""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

OUT = Path(__file__).parent / "results" / "serve.md"
TEXT = "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore."
REPO = Path(__file__).resolve().parents[1]


def start(root: Path, home: Path, threads: int) -> tuple[subprocess.Popen, int]:
    env = os.environ | {"GSV_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "gsv_tui.cli", "serve", "-C", str(root), "--port", "0",
            "--offline", "--device", "cpu", "--queue", "16"]
    if threads:
        args += ["--threads", str(threads)]
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, int(m[1])
    raise SystemExit(f"server did not start (exit {proc.wait()})")


def one(port: int, token: str) -> dict[str, float]:
    body = json.dumps({"text": TEXT, "text_lang": "en", "text_split_method": "cut4",
                       "streaming_mode": True, "seed": 1})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    t0 = time.perf_counter()
    conn.request("POST", "/tts", body, {"Authorization": f"Bearer {token}",
                                        "Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()[:300]
    first = resp.read1(1 << 16)
    t_first = time.perf_counter() - t0
    size = len(first) + len(resp.read())
    conn.close()
    return {"first": t_first, "total": time.perf_counter() - t0, "bytes": size}


def round_(port: int, token: str, clients: int, requests: int) -> dict:
    results: list[dict] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(requests):
            r = one(port, token)
            with lock:
                results.append(r)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    firsts = sorted(r["first"] for r in results)
    return {"clients": clients, "n": len(results), "wall": wall, "rps": len(results) / wall,
            "first_med": statistics.median(firsts), "first_max": firsts[-1],
            "total_med": statistics.median(r["total"] for r in results),
            "audio_s": (results[0]["bytes"] - 44) / 2 / 32000}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--requests", type=int, nargs="+", default=[3, 2],
                    help="requests per client in each round")
    ap.add_argument("--threads", type=int, default=0, help="server torch threads (0: default)")
    args = ap.parse_args(argv or [])
    from bench.synth_pipeline import build
    from engine.dataset.format.models import HUBERT_SPEC

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        os.environ["GSV_HOME"] = str(home)
        root = build(Path(tmp))
        from engine.hub import default_dir

        hubert = default_dir(HUBERT_SPEC)
        hubert.parent.mkdir(parents=True, exist_ok=True)
        hubert.symlink_to(Path(tmp) / "hubert", target_is_directory=True)
        # Baseline on the same machine just before: the synthesize step in-process, same
        # text (what the server adds is HTTP, queueing and encoding).
        from bench.synth_pipeline import run_once

        run_once(root, hubert)
        base = run_once(root, hubert)
        print("in-process", {k: round(v, 3) for k, v in base.items()}, flush=True)
        t0 = time.perf_counter()
        proc, port = start(root, home, args.threads)
        started = time.perf_counter() - t0
        token = (home / "config" / "serve-token").read_text().strip()
        try:
            one(port, token)  # warm-up: allocator, G2P caches, first-call paths
            rows = []
            for clients, requests in zip(args.clients, args.requests):
                r = round_(port, token, clients, requests)
                rows.append(r)
                print({k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()},
                      flush=True)
        finally:
            proc.terminate()
            proc.wait(30)
    load = os.getloadavg()[0]
    import torch

    lines = [
        "# gsv serve benchmarks", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, **shared with other jobs and "
        f"noisy** (1-min load average {load:.1f} at the end; timings here vary by tens of per "
        f"cent between runs), Python {platform.python_version()}, torch {torch.__version__}; "
        "`python -m bench serve_bench`.", "",
        "## Streamed /tts on CPU: full-size random GPT + SoVITS v2 + HuBERT-base", "",
        f"Text: \"{TEXT}\" (English, cut4 -> 2 pieces of 101 tokens, {rows[0]['audio_s']:.2f} s "
        "of audio per request); a real `gsv serve` process on 127.0.0.1 (torch threads: "
        f"{args.threads or 'default'}), clients on loopback, streaming_mode on, after one "
        f"warm-up request. Server start-up (imports, weights, HuBERT, reference) took "
        f"{started:.1f} s. First chunk = time from sending the request to the first audio "
        "byte (the first piece); total = to the last byte.", "",
        f"Baseline, same machine just before: the synthesize step in-process (`run_synthesize`, "
        f"same text and seed, models loaded per run) took {base['wall']:.1f} s wall, "
        f"{base['load']:.1f} s of it loading. On this box the noise between runs is larger "
        "than anything the server adds (a served request may come out faster than the "
        "baseline): read the table for the shape, not for small differences.", "",
        "| Clients | Requests | Wall (s) | Requests/s | First chunk median (s) | "
        "First chunk max (s) | Total median (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['clients']} | {r['n']} | {r['wall']:.1f} | {r['rps']:.3f} | "
                     f"{r['first_med']:.2f} | {r['first_max']:.2f} | {r['total_med']:.2f} |")
    lines += ["", "One voice speaks one request at a time (its worker owns the models), so with "
              "4 clients throughput stays that of one and the first chunk waits for the "
              "requests queued ahead; serving more voices (bundles) runs them side by side.", ""]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
