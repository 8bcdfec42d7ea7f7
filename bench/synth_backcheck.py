"""What the synthesis back-check costs: seconds of CPU and wall time per second of audio
checked, with the real Whisper base model (CTranslate2 int8, greedy, VAD; the settings
engine.synth.backcheck uses) on espeak-ng English takes of about 2, 5 and 10 s.

    .venv/bin/python -m bench.synth_backcheck [--repeat 3] [--write]

Each take is checked ``--repeat`` times per thread count (ABBA over thread counts, best
and median kept): the machine is shared with other sessions, so single runs drift."""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TAKES = {
    "short": "The quick brown fox jumps over the lazy dog.",
    "medium": "Please call Stella and ask her to bring these things with her from the store: "
              "six spoons of fresh snow peas.",
    "long": "Please call Stella and ask her to bring these things with her from the store: "
            "six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack "
            "for her brother Bob. We also need a small plastic snake and a big toy frog.",
}
RESULTS = Path(__file__).resolve().parent / "results" / "backcheck.md"
NOTES = """
## Reading the numbers

- The cost is mostly a constant per take, about 1.2–1.3 s of CPU: Whisper's encoder always
  runs on a 30 s window (the take padded), so a longer take costs little more. Per second
  of audio that is ~0.4 CPU-s for a 3 s piece and ~0.12 for a 15 s one.
- Against synthesis on the same box (bench/results/synth.md: full-size GPT + SoVITS, RTF
  CPU 1.5–1.9), checking a take adds roughly 10–25 % to what the take cost to make. A failed
  take costs a whole new synthesis plus its check, so re-rolls, not checks, dominate when
  many pieces fail.
- A second thread buys nothing here: the box has 2 cores shared by several sessions (see the
  load averages), so wall times swing by ±40 % between repeats; CPU times are steadier.
- WER on espeak-ng speech is 0.2–0.3 with greedy base (a robotic voice: "round fox");
  the default threshold (max_error 0.35) passes these takes. Numbers count the same as
  digits or words (both sides go through the text frontend's number spelling).
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--write", action="store_true", help=f"write the table to {RESULTS}")
    args = ap.parse_args([] if __name__ != "__main__" else None)

    from engine.synth.backcheck import open_checker
    from tests.engine.asr.whisper_base import whisper_base_dir
    from tests.helpers.speech import speech_array

    model = whisper_base_dir()
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        audio = {k: speech_array(t, Path(tmp) / k) for k, t in TAKES.items()}
    threads = [int(t) for t in args.threads.split(",")]
    checkers, loads = {}, {}
    for n in threads:
        t0 = time.perf_counter()
        checkers[n] = open_checker(str(model), "en", "cpu", threads=n)
        loads[n] = time.perf_counter() - t0
    for c in checkers.values():  # warm-up (first call allocates)
        c.check(TAKES["short"], audio["short"], 40, "en", speed=1.0, max_error=0.35)
    rows: dict[tuple[int, str], list[tuple[float, float, float]]] = {}
    order = threads + threads[::-1]
    for _ in range(args.repeat):
        for n in order:
            for k, a in audio.items():
                c0, t0 = time.process_time(), time.perf_counter()
                check = checkers[n].check(TAKES[k], a, 1, "en", speed=1.0, max_error=0.35)
                rows.setdefault((n, k), []).append(
                    (time.perf_counter() - t0, time.process_time() - c0, check.error))
    load_end = os.getloadavg()[0]
    table = [
        "# Synthesis back-check: cost per second of audio (CPU)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores **shared with other sessions "
        f"and noisy** (1-min load average {load_start:.1f} at the start, {load_end:.1f} at the "
        f"end), Python {platform.python_version()}; `python -m bench synth_backcheck`.",
        "Model: real Whisper base (CTranslate2 int8) as engine.synth.backcheck runs it: greedy, "
        "Silero VAD, one take per call, language given. Takes: espeak-ng English. "
        f"{2 * args.repeat} runs per cell (ABBA over thread counts); best and median wall, "
        "median CPU (process time: every thread).",
        "",
        "| Threads | Take | Audio (s) | Wall best (s) | Wall median (s) | CPU median (s) "
        "| Wall / audio s | CPU / audio s | WER |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n in threads:
        for k, a in audio.items():
            runs = rows[(n, k)]
            secs = len(a) / 32000
            best = min(r[0] for r in runs)
            med = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            table.append(f"| {n} | {k} | {secs:.1f} | {best:.3f} | {med:.3f} | {cpu:.3f} | "
                         f"{med / secs:.3f} | {cpu / secs:.3f} | {runs[0][2]:.2f} |")
    table += ["", "Model load (once per run, not per take): " +
              ", ".join(f"{n} thread(s) {loads[n]:.2f} s" for n in threads) + "."]
    print("\n".join(table))
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(table) + "\n" + NOTES, encoding="utf-8")


if __name__ == "__main__":
    main()
