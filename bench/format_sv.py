"""What v2Pro/v2ProPlus add to the 1A step per clip: the ERes2NetV2 speaker embedding
(read 5-wav32k, 32 -> 16 kHz, fbank, forward3, save), full-size model with the fixture's
random weights (same shapes and FLOPs as upstream's file); and how far the embedding moves
when soxr replaces upstream's resampler.
Usage: .venv/bin/python -m bench format_sv   [BENCH_CLIPS env, default 6]"""
from __future__ import annotations

import lzma
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
V2PRO = REPO / "tests" / "fixtures" / "upstream-v2pro"

EN = ["The quick brown fox jumps over the lazy dog near the river bank.",
      "She sells sea shells by the sea shore every summer morning.",
      "Please call Stella and ask her to bring these things from the store."]


def _compare(a, b) -> tuple[float, float, float]:
    import numpy as np

    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    cos = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    return cos, float(np.linalg.norm(a - b) / np.linalg.norm(b)), float(np.abs(a - b).max())


def _timing(tmp: Path, ckpt: Path, n: int) -> str:
    import soundfile as sf
    import torch

    from engine.dataset.format import expdir, sv
    from engine.models.sv import SpeakerEncoder
    from tests.helpers.speech import speak

    t0 = time.perf_counter()
    enc = SpeakerEncoder(ckpt)
    load_s = time.perf_counter() - t0
    exp = expdir.ExpDir(tmp / "exp")
    exp.make()
    names = []
    for i in range(n):
        name = f"c{i}.wav"
        speak(EN[i % len(EN)], exp.wav32k(name))
        names.append(name)
    audio_s = sum(sf.info(str(exp.wav32k(c))).duration for c in names[1:])
    names_ = ("read 5-wav32k", "resample 32->16 kHz", "fbank", "ERes2NetV2 forward3",
              "save 7-sv_cn/.pt")
    stages = dict.fromkeys(names_, 0.0)  # wall seconds
    cpu = dict.fromkeys(names_, 0.0)  # process CPU seconds (all threads): less load-bound
    from engine.models.sv.fbank import fbank
    from engine.models.sv.resample import to_16k

    for i, name in enumerate(names):
        t, c = [time.perf_counter()], [time.process_time()]

        def mark() -> None:
            t.append(time.perf_counter())
            c.append(time.process_time())

        wav = sv.read_wav32k(exp.wav32k(name))
        mark()
        w16 = to_16k(wav)
        mark()
        feats = fbank(w16)
        mark()
        with torch.no_grad():
            emb = enc.model(feats)
        mark()
        sv.save_embedding(sv.sv_file(exp.root, name), emb)
        mark()
        if i == 0:
            continue  # the first clip pays allocations and lazy imports
        for k, a, b, ca, cb in zip(names_, t, t[1:], c, c[1:]):
            stages[k] += b - a
            cpu[k] += cb - ca
    m = max(n - 1, 1)
    per_clip = sum(stages.values()) / m
    lines = ["## Speaker embedding per clip (v2Pro/v2ProPlus 1Ab, CPU)", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, torch threads "
             f"{torch.get_num_threads()}, Python {platform.python_version()}, load average "
             f"{os.getloadavg()[0]:.1f} at the end (the machine is shared with other "
             "sessions: these timings are noisy and scale with the load); `python -m bench "
             f"format_sv`; {m} espeak clips of {audio_s / m:.1f} s on average (first clip "
             "excluded); full-size ERes2NetV2 with the fixture's random weights (upstream's "
             "shapes, so upstream's cost).", "",
             "| Stage | wall ms per clip | CPU ms per clip (both threads) |", "|---|---|---|"]
    lines += [f"| {k} | {1000 * v / m:.0f} | {1000 * cpu[k] / m:.0f} |"
              for k, v in stages.items()]
    lines += [f"| **extra per clip** | **{1000 * per_clip:.0f}** "
              f"({audio_s / m / per_clip:.2f}× real time) | "
              f"{1000 * sum(cpu.values()) / m:.0f} |", "",
              f"Loading the model (once per run, mmap of the 215 MB file): {load_s:.1f} s. "
              "This comes on top of the v2 per-clip total in the section above. CPU ms "
              "(process time, both threads) moves less with the load than wall ms: with both "
              "threads busy on an idle machine, wall would be near half of it."]
    return "\n".join(lines)


def _resampler(ckpt: Path) -> str:
    import numpy as np
    import soxr
    import torch

    from engine.models.sv import SpeakerEncoder

    enc = SpeakerEncoder(ckpt)
    f = dict(np.load(V2PRO / "sv_format_2_get_sv.npz"))
    inputs = dict(np.load(V2PRO / "inputs.npz"))
    rows = []
    clip = f["wav32k_int16"][0].astype(np.float32) / 32768.0
    signals = [("clip_a.wav (1.5 s)", clip, f["emb_pt"]),
               ("ref_wav_32k (3.2 s)", inputs["ref_wav_32k"][0], None),
               ("ref_wav2_32k (2.4 s)", inputs["ref_wav2_32k"][0], None)]
    for label, x, upstream in signals:
        ours = enc.embed_32k(torch.from_numpy(x)[None]).numpy()
        ref = upstream if upstream is not None else ours
        who = "upstream's 2-get-sv.py file" if upstream is not None else "our sinc port"
        for name, emb in (("ours (sinc port)", ours),
                          ("soxr HQ", enc.embed_16k(torch.from_numpy(
                              soxr.resample(x, 32000, 16000, "HQ").astype(np.float32))[None])),
                          ("soxr VHQ", enc.embed_16k(torch.from_numpy(
                              soxr.resample(x, 32000, 16000, "VHQ").astype(np.float32))[None]))):
            if name.startswith("ours") and upstream is None:
                continue
            cos, rel, mx = _compare(np.asarray(emb), ref)
            rows.append(f"| {label} | {name} | {who} | {cos:.7f} | {rel:.2e} | {mx:.2e} |")
    return "\n".join([
        "## Speaker embedding: 32 -> 16 kHz resampler against upstream's", "",
        "Embedding of the same 32 kHz signal after each resampler, then our fbank and "
        "ERes2NetV2 (fixture weights), against the reference named. clip_a's reference is "
        "the tensor upstream's unmodified 2-get-sv.py wrote (its torchaudio Resample was a "
        "pure-torch port of torchaudio's default there: torchaudio could not be run). "
        "Relative L2 = ‖a − b‖ / ‖b‖; two different clips give cosine ~0.76 with these "
        "weights.", "",
        "| signal | resampler | against | cosine | rel L2 | max abs |", "|---|---|---|---|---|---|",
        *rows])


def main() -> None:
    import torch

    from bench.format_text import _record

    torch.set_num_threads(os.cpu_count() or 1)
    n = int(os.environ.get("BENCH_CLIPS", "6"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpt = tmp / "pretrained_eres2netv2w24s4ep4.ckpt"
        ckpt.write_bytes(lzma.decompress(
            (V2PRO / "sv_eres2netv2w24s4ep4_random.ckpt.xz").read_bytes()))
        resample = _resampler(ckpt)
        print(resample + "\n")
        _record(resample, "## Speaker embedding: 32 -> 16 kHz")
        timing = _timing(tmp, ckpt, n)
        print(timing)
        _record(timing, "## Speaker embedding per clip")


if __name__ == "__main__":
    main()
