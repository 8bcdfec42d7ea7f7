"""Slicing throughput on 30-minute recordings (a quiet floor, and a noise floor above the
threshold, where every over-long clip goes through the local threshold and the
sentence-boundary model): our cut computation against upstream's Slicer.slice (our
re-implementation of its operation sequence, upstream_like) on the same decoded samples,
each side in fresh processes (one call each, as upstream's WebUI runs slice_audio.py and
our slice step runs once per process) and warm in one process; wall, CPU, system time
and page faults. Usage: .venv/bin/python -m bench audio_slice  [MINUTES env: BENCH_MIN]
"""
from __future__ import annotations

import functools
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


def make_recording(path: Path, minutes: float, sr: int = 44100, noise: float = 1e-3,
                   every: int = 4) -> None:
    """espeak sentences, stereo PCM_16: ``every - 1`` paced ones (0.2–1.5 s pauses), then
    a run of ~30 s whose sentences follow 0–60 ms apart (which must be split), and so on;
    white noise of RMS ``noise`` underneath (1e-3: a −60 dB floor; 0.03: above the
    threshold)."""
    from tests.helpers.speech import speech_array

    rng = np.random.default_rng(0)
    texts = ["The quick brown fox jumps over the lazy dog near the river bank.",
             "She sells sea shells by the sea shore every summer morning.",
             "Please call Stella and ask her to bring these things from the store.",
             "A journey of a thousand miles begins with a single step."]
    with tempfile.TemporaryDirectory() as tmp:
        parts = [_trim(speech_array(t, Path(tmp), sr=sr)) * 0.6 for t in texts]
    total, target, k = 0, int(minutes * 60 * sr), 0
    with sf.SoundFile(str(path), "w", sr, 2, "PCM_16") as f:
        while total < target:
            if k % every < every - 1:
                gap = np.zeros(int(rng.uniform(0.2, 1.5) * sr), np.float32)
                x = np.concatenate([parts[rng.integers(len(parts))], gap])
            else:
                run = []
                while sum(map(len, run)) < 30 * sr:
                    run += [parts[rng.integers(len(parts))],
                            np.zeros(int(rng.uniform(0, 0.06) * sr), np.float32)]
                x = np.concatenate(run + [np.zeros(int(0.8 * sr), np.float32)])
            k += 1
            x = x + rng.standard_normal(x.size).astype(np.float32) * noise
            f.write(np.stack([x, 0.9 * x], 1)[: target - total])
            total += x.size


def _trim(x: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > 1e-3)
    return x[loud[0]:loud[-1] + 1]


def upstream_rms(y: np.ndarray, win: int, hop: int) -> np.ndarray:
    """Upstream's get_rms (tools/slicer2.py), our re-implementation of its operations in
    their order: zero-pad win//2 each side, a stride-1 frame view (every sample starts a
    frame), the frame axis moved in front, every hop-th frame taken, then
    mean(|x|**2) over the frame axis (float32 temporaries of win x frames), sqrt."""
    y = np.pad(y, (win // 2, win // 2), mode="constant")
    s = y.strides[-1]
    view = np.lib.stride_tricks.as_strided(y, (y.shape[-1] - win + 1, win), (s, s))
    view = np.moveaxis(view, -1, -2)[..., ::hop]
    return np.sqrt(np.mean(np.abs(view) ** 2, axis=-2, keepdims=True))


def upstream_tags(rms: np.ndarray, g) -> list[tuple[int, int]]:
    """Upstream's per-frame state machine over the RMS frames (one Python step per frame,
    the same argmin calls, the trailing silence): the (start, end) frame tags of the
    silences it removes. Also the tests' reference for engine.audio.slicer.silence_tags."""
    keep = g.max_sil_kept
    tags, silence_start, clip_start = [], None, 0
    for i, r in enumerate(rms):
        if r < g.threshold:
            if silence_start is None:
                silence_start = i
            continue
        if silence_start is None:
            continue
        s = silence_start
        leading = s == 0 and i > keep
        middle = i - s >= g.min_interval and i - clip_start >= g.min_length
        if not leading and not middle:
            silence_start = None
            continue
        if i - s <= keep:
            pos = rms[s:i + 1].argmin() + s
            tags.append((0, pos) if s == 0 else (pos, pos))
            clip_start = pos
        elif i - s <= keep * 2:
            pos = rms[i - keep:s + keep + 1].argmin() + i - keep
            pos_l = rms[s:s + keep + 1].argmin() + s
            pos_r = rms[i - keep:i + 1].argmin() + i - keep
            if s == 0:
                tags.append((0, pos_r))
                clip_start = pos_r
            else:
                tags.append((min(pos_l, pos), max(pos_r, pos)))
                clip_start = max(pos_r, pos)
        else:
            pos_l = rms[s:s + keep + 1].argmin() + s
            pos_r = rms[i - keep:i + 1].argmin() + i - keep
            tags.append((0, pos_r) if s == 0 else (pos_l, pos_r))
            clip_start = pos_r
        silence_start = None
    total = rms.shape[0]
    if silence_start is not None and total - silence_start >= g.min_interval:
        pos = rms[silence_start:min(total, silence_start + keep) + 1].argmin() + silence_start
        tags.append((pos, total + 1))
    return tags


def upstream_like(x: np.ndarray, sr: int) -> list:
    """Upstream's Slicer.slice on mono samples, our re-implementation of the same
    operation sequence (what slice_audio.py calls per file): upstream_rms, one Python
    step per frame over the float32 array with the same argmin calls, the trailing
    silence, then the chunk list (sample views with start and end). Returns that list."""
    from engine.audio.slicer import FrameGrid, SlicerParams

    g = FrameGrid.of(SlicerParams(), sr)
    if x.shape[0] <= g.min_length:
        return [[x, 0, x.shape[0]]]
    rms = upstream_rms(x, g.win, g.hop).squeeze(0)
    tags, total = upstream_tags(rms, g), rms.shape[0]
    if not tags:
        return [[x, 0, int(total * g.hop)]]

    def piece(a, b):
        return [x[a * g.hop:min(x.shape[0], b * g.hop)], int(a * g.hop), int(b * g.hop)]

    chunks = [piece(0, tags[0][0])] if tags[0][0] > 0 else []
    chunks += [piece(tags[k][1], tags[k + 1][0]) for k in range(len(tags) - 1)]
    if tags[-1][1] < total:
        chunks.append(piece(tags[-1][1], total))
    return chunks


SR = 32000
N_FRESH = 5  # fresh processes per side and file


def _usage() -> tuple[float, float, float]:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime, r.ru_minflt


def _ours(x: np.ndarray, split: dict | None = None) -> list:
    """Our cut computation; ``split`` collects the wall seconds spent in the frame RMS and
    in the sentence-boundary model: splitpoints.prefetched (the model on every forced
    range, in threads) timed whole, and any call of the scorer outside it."""
    from engine.audio import splitpoints
    from engine.audio.slicer import FrameGrid, SlicerParams, frame_rms
    from engine.audio.splitpoints import default_scorer, plan_clips

    split = {} if split is None else split
    split.update(rms=0.0, model=0.0)
    model = default_scorer()
    inside = []
    real = getattr(splitpoints.prefetched, "__wrapped__", splitpoints.prefetched)

    @functools.wraps(real)
    def prefetched(*a, **k):
        t = time.perf_counter()
        inside.append(True)
        try:
            return real(*a, **k)
        finally:
            inside.pop()
            split["model"] += time.perf_counter() - t

    splitpoints.prefetched = prefetched

    @functools.wraps(model)  # keeps the attributes the planner reads (all_frames, ...)
    def scorer(*a, **k):
        t = time.perf_counter()
        try:
            return model(*a, **k)
        finally:
            if not inside:
                split["model"] += time.perf_counter() - t

    g = FrameGrid.of(SlicerParams(), SR)
    t = time.perf_counter()
    rms = frame_rms(x, g.win, g.hop)
    split["rms"] = time.perf_counter() - t
    return plan_clips(x, SR, SlicerParams(), 12 * SR, rms=rms, scorer=scorer).bounds


def _forced_share(x: np.ndarray) -> float:
    """The share of the samples in over-long clips (what the boundary model reads)."""
    from engine.audio.slicer import FrameGrid, SlicerParams, frame_rms
    from engine.audio.splitpoints import long_clips

    g = FrameGrid.of(SlicerParams(), SR)
    spans = long_clips(x, SR, SlicerParams(), 12 * SR, frame_rms(x, g.win, g.hop))
    return sum(e - s for s, e in spans) / max(1, x.shape[0])


def _timed(fn, x) -> dict:
    u, s, f = _usage()
    split: dict = {}
    t, c = time.perf_counter(), time.process_time()
    out = fn(x, split)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    u2, s2, f2 = _usage()
    return {"wall": wall, "cpu": cpu, "user": u2 - u, "sys": s2 - s, "faults": f2 - f,
            "clips": len(out), **split}


def child(side: str, npy: str) -> None:
    """One measurement in this (fresh) process, printed as a JSON line. Both sides import
    the same modules and load the samples before the clock starts."""
    import json

    import scipy.fft  # noqa: F401  (what ours imports lazily; imported, not warmed)
    import scipy.ndimage  # noqa: F401
    import threadpoolctl  # noqa: F401

    import engine.audio.boundary  # noqa: F401
    import engine.audio.boundary_net_weights  # noqa: F401
    import engine.audio.boundary_weights  # noqa: F401
    import engine.audio.splitpoints  # noqa: F401

    x = np.load(npy)
    sides = {"ours": _ours, "ref": lambda v, _: upstream_like(v, SR)}
    if side != "warm":
        print(json.dumps(_timed(sides[side], x)))
        return
    # one process: a full call of each first, then alternating, best of 3
    runs = {"ours": [], "ref": []}
    for name in ("ours", "ref", "ref", "ours", "ours", "ref", "ref", "ours"):
        runs[name].append(_timed(sides[name], x))
    print(json.dumps({k: {"first": v[0], "best": min(v[1:], key=lambda d: d["wall"]),
                          "best_cpu": min(d["cpu"] for d in v[1:])} for k, v in runs.items()}))


def _spawn(side: str, npy: Path) -> dict:
    import json
    import subprocess

    out = subprocess.run([sys.executable, "-m", "bench.audio_slice", "--child", side, str(npy)],
                         cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measure(npy: Path) -> dict:
    """Fresh processes alternating ours/ref (ABBA), then the warm process."""
    fresh = {"ours": [], "ref": []}
    for k in range(N_FRESH):
        for side in (("ours", "ref") if k % 2 == 0 else ("ref", "ours")):
            fresh[side].append(_spawn(side, npy))
    return {"fresh": fresh, "warm": _spawn("warm", npy)}


def _load() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def _stats(runs: list[dict], key: str) -> tuple[float, float]:
    v = sorted(r[key] for r in runs)
    return float(np.median(v)), v[0]


def _rows(label: str, m: dict) -> list[tuple[str, str]]:
    f, w = m["fresh"], m["warm"]
    med = {side: {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
           for side, runs in f.items()}
    low = {side: min(r["wall"] for r in runs) for side, runs in f.items()}
    o, r = med["ours"], med["ref"]
    wo, wr = w["ours"]["best"], w["ref"]["best"]
    return [
        (f"{label}: **fresh** processes ({N_FRESH} per side, alternating): wall median / min; "
         "CPU median (system); page faults",
         f"ours {o['wall']:.3f} / {low['ours']:.3f} s; {o['cpu']:.3f} s ({o['sys']:.3f} s); "
         f"{o['faults']:.0f} — upstream's (our re-implementation) {r['wall']:.2f} / "
         f"{low['ref']:.2f} s; {r['cpu']:.2f} s ({r['sys']:.2f} s); {r['faults']:.0f}"),
        (f"{label}: fresh, ours faster by: median; min; CPU median",
         f"**{r['wall'] / o['wall']:.1f}×**; {low['ref'] / low['ours']:.1f}×; "
         f"{r['cpu'] / o['cpu']:.1f}×"),
        (f"{label}: **warm**, one process, best of 3 after a full call of each: wall (CPU)",
         f"ours {wo['wall']:.3f} s ({w['ours']['best_cpu']:.3f} s); upstream's "
         f"{wr['wall']:.3f} s ({w['ref']['best_cpu']:.3f} s, system {wr['sys']:.2f} s): "
         f"**{wr['wall'] / wo['wall']:.1f}×** ({w['ref']['best_cpu'] / w['ours']['best_cpu']:.1f}×"
         " CPU)"),
        (f"{label}: where ours goes (fresh median; warm best): frame RMS, sentence-boundary "
         "model, the rest (upstream's rules, local threshold, valleys, DP, merge)",
         f"{o['rms']:.3f} / {o['model']:.3f} / {o['wall'] - o['rms'] - o['model']:.3f} s; "
         f"{wo['rms']:.3f} / {wo['model']:.3f} / {wo['wall'] - wo['rms'] - wo['model']:.3f} s; "
         f"{o['clips']:.0f} clips (upstream's {r['clips']:.0f})"),
    ]


def _verdict(m: dict) -> tuple[float, float, float, float]:
    """Fresh (medians) and warm ratios, with and without the boundary model's time."""
    def med(side, k):
        return float(np.median([r[k] for r in m["fresh"][side]]))

    wo, wr = m["warm"]["ours"]["best"], m["warm"]["ref"]["best"]
    return (med("ref", "wall") / med("ours", "wall"), wr["wall"] / wo["wall"],
            med("ref", "wall") / (med("ours", "wall") - med("ours", "model")),
            wr["wall"] / (wo["wall"] - wo["model"]))


def main() -> None:
    from engine.audio.decode import load_mono
    from engine.audio.slicer import peak_mix

    minutes = float(os.environ.get("BENCH_MIN", "30"))
    audio_s = minutes * 60
    rows, loads, verdict, per_min = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for label, noise, every in (("−60 dB floor", 1e-3, 4),
                                    ("floor above the threshold (−30 dBFS)", 0.03, 4),
                                    ("fewer runs (−60 dB floor)", 1e-3, 16)):
            src, npy = Path(tmp) / "long.wav", Path(tmp) / "long.npy"
            t = time.perf_counter()
            make_recording(src, minutes, noise=noise, every=every)
            t_make = time.perf_counter() - t
            t = time.perf_counter()
            x, _ = load_mono(src, SR)
            t_decode = time.perf_counter() - t
            np.save(npy, x)
            bounds = _ours(x)
            share = _forced_share(x)
            rows += [(f"**{label}**: audio", f"{minutes:g} min, 44.1 kHz stereo PCM_16 WAV, a "
                      f"30 s run without pauses after every {every - 1} paced sentences "
                      "(generated in "
                      f"{t_make:.1f} s); ours: {len(bounds)} clips, longest "
                      f"{max(e - s for s, e in bounds) / SR:.1f} s; "
                      f"{100 * share:.0f} % of the audio in clips the "
                      "boundary model reads"),
                     ("decode → 32 kHz mono (soundfile + soxr HQ)",
                      f"{t_decode:.2f} s  ({audio_s / t_decode:.0f}× real time)")]
            if len(rows) == 2:  # the first file
                out = Path(tmp) / "clips"
                out.mkdir()
                t = time.perf_counter()
                for k, (s, e) in enumerate(bounds):
                    sf.write(str(out / f"c{k}.wav"), peak_mix(x[s:e]), SR, subtype="PCM_16")
                rows.append(("writing clips (peak mix + 16-bit WAV)",
                             f"{time.perf_counter() - t:.2f} s for {len(bounds)} clips"))
            del x
            before = _load()
            m = _measure(npy)
            loads.append(f"{before} → {_load()}")
            rows += _rows(label, m)
            verdict.append(_verdict(m))
            per_min.append(m["warm"]["ours"]["best"]["model"] / (share * minutes))
            print("\n".join(f"{a}: {b}" for a, b in rows[-4:]), flush=True)
    text = ["## Slicing throughput", "",
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
            "shared with other sessions; load average (1/5/15 min) before → after each file: "
            f"{'; '.join(loads)}; Python {platform.python_version()}; "
            "`python -m bench audio_slice`.", "",
            "Protocol: both sides get the same decoded samples (saved once as .npy, loaded "
            "before the clock; imports done before the clock) and are timed on the cut "
            "computation only (ours: frame RMS + upstream's rules + local threshold + "
            "sentence-boundary model + DP + merge, the model on the clips that must be cut "
            "a thread per core at once, each on one BLAS thread; upstream's: Slicer.slice, our re-implementation of "
            "its operations, one thread). Fresh: one call per new process, as "
            "upstream's WebUI runs slice_audio.py and our slice step runs once per process. "
            "Warm: one process, a full call of each, then alternating, best of 3.", "",
            "What the reference leaves out of upstream's run, on both sides alike: decoding "
            "(upstream: ffmpeg to float32 mono; here the same samples from the .npy), the "
            "Slicer's constructor, and the peak mix and file writes of slice_audio.py. Its "
            f"input is the mono float32 array upstream's load_audio yields; numpy "
            f"{np.__version__} on both sides (upstream's environment may pin another). Its "
            "RMS builds float32 temporaries of win × frames (~0.9 GB each for 30 min); "
            "their first touch in a process is the system time above.", "",
            "| What | Result |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    lo, hi = (tuple(f(v[k] for v in verdict) for k in range(4)) for f in (min, max))

    def span(k: int, digits: int) -> str:
        a, b = f"{lo[k]:.{digits}f}", f"{hi[k]:.{digits}f}"
        return a if a == b else f"{a}–{b}"

    text += ["", f"Reading it: ours is {span(0, 1)}× upstream's in fresh processes "
             f"(medians) and {span(1, 1)}× warm, so the ≥ 10× target is "
             f"{'met' if min(lo[0], lo[1]) >= 10 else 'not met'} like for like. Without the "
             f"sentence-boundary model ours would be {span(2, 0)}× fresh and "
             f"{span(3, 0)}× warm. The model ({_nets()} of engine/audio/boundary_net.py) "
             f"costs {min(per_min):.3f}–{max(per_min):.3f} s of wall time per minute of audio it "
             "reads (warm best), and reads only the clips that must be cut, so the ratio "
             "rises as fewer of them are (the third file). The ratios recorded before this "
             "protocol (~28×, ~140×, 5–12×) set a warm call of ours against the reference's "
             "first touch of its memory."]
    print("\n".join(text))
    _record("## Slicing throughput", "\n".join(text) + "\n")


def _nets() -> str:
    from engine.audio.boundary_net import weights

    n = len(weights())
    return "the conv net" if n == 1 else ("the conv-net pair" if n == 2 else f"{n} conv nets")


def _record(heading: str, section: str) -> None:
    """Replace this benchmark's section of bench/results/audio.md, keep the others."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Audio benchmarks\n\n"
    parts = old.split("\n## ")
    kept = [p for p in parts[1:] if not ("## " + p).startswith(heading)]
    body = parts[0].rstrip() + "\n\n" + "".join("## " + p.rstrip() + "\n\n" for p in kept)
    RESULTS.write_text(body + section, encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
    else:
        main()
