"""Reference suggestions: which proofread clip (3–10 s, what upstream accepts) should the
voice imitate? Users of upstream pick by trial; we rank the clips by what makes a reference
bad — too quiet or too loud, a noise floor close to the speech, clipped peaks, speech the
ASR does not hear as its text — and ``run_try_refs`` reads one test sentence with each of
the top few, so the user picks by ear among good candidates.

Each measure becomes a factor in 0–1; the score is their product, so one bad measure sinks
a clip whatever the others say."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.layout import Layout
from engine.settings import validate
from engine.synth.reference import RefChoice

STEP = "refs"
LOUD_RANGE = (-26.0, -14.0)  # integrated LUFS a reference may sit in without penalty
SNR_BAD, SNR_GOOD = 10.0, 40.0  # dB between speech and the noise floor
CLIP_LEVEL = 0.999
CLIP_BAD = 0.002  # this share of clipped samples (0.2 %) scores zero
FRAME_S = 0.02


@dataclass
class RefScore:
    wav: str
    text: str
    language: str
    seconds: float
    loudness_lufs: float | None
    snr_db: float
    clipped_share: float
    asr_error: float | None = None  # None: not checked (no ASR model)
    heard: str = ""
    score: float = 0.0
    notes: list[str] = field(default_factory=list)

    def choice(self) -> RefChoice:
        return RefChoice(self.wav, self.text, self.language, self.seconds)


def snr_db(audio: np.ndarray, sr: int) -> float:
    """Speech level (95th percentile of 20 ms RMS) over the noise floor (10th), in dB."""
    n = max(1, int(sr * FRAME_S))
    frames = audio[: len(audio) // n * n].reshape(-1, n)
    if not len(frames):
        return 0.0
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-6))  # digital silence counts as -120 dB
    return float(np.percentile(db, 95) - np.percentile(db, 10))


def loudness(audio: np.ndarray, sr: int) -> float | None:
    from engine.audio.loudness import LoudnessMeter

    meter = LoudnessMeter(sr, 1)
    meter.add(audio.reshape(-1, 1))
    return meter.integrated()


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


def score_clip(clip: RefChoice, audio: np.ndarray, sr: int, heard: str | None = None) -> RefScore:
    """Measure one clip and score it; ``heard``: what ASR made of it (None: not checked)."""
    from engine.synth.backcheck import text_error

    lufs = loudness(audio, sr)
    snr = snr_db(audio, sr)
    clipped = float(np.count_nonzero(np.abs(audio) >= CLIP_LEVEL)) / max(1, audio.size)
    notes = []
    lo, hi = LOUD_RANGE
    if lufs is None:
        f_loud, notes = 0.0, ["silent"]
    else:
        off = lo - lufs if lufs < lo else lufs - hi if lufs > hi else 0.0
        f_loud = _clamp(1 - off / 15)
        if off:
            notes.append("quiet" if lufs < lo else "loud")
    f_snr = _clamp((snr - SNR_BAD) / (SNR_GOOD - SNR_BAD))
    if snr < 25:
        notes.append("noisy")
    f_clip = _clamp(1 - clipped / CLIP_BAD)
    if clipped > CLIP_BAD / 10:
        notes.append("clipped")
    error = None
    f_asr = 1.0
    if heard is not None:
        _, error = text_error(clip.text, heard)
        f_asr = _clamp(1 - error)
        if error > 0.3:
            notes.append("ASR hears other words")
    score = f_loud * f_snr * f_clip * f_asr
    return RefScore(clip.wav, clip.text, clip.language, clip.seconds,
                    None if lufs is None else round(lufs, 1), round(snr, 1), round(clipped, 6),
                    None if error is None else round(error, 3), heard or "", round(score, 3),
                    notes)


def rank(layout: Layout, checker: Any = None) -> list[RefScore]:
    """Every usable proofread clip (3–10 s), best first. ``checker``
    (engine.synth.backcheck.Checker) adds ASR agreement; None leaves it out."""
    from engine.audio.decode import DecodeError, load_mono
    from engine.synth.reference import candidates

    out = []
    for clip in candidates(layout):
        try:
            audio, sr = load_mono(layout.abs(clip.wav), 32000)
        except DecodeError:
            continue
        heard = None
        if checker is not None:
            heard, err = checker.transcribe(audio, clip.language)
            heard = "" if err else heard
        out.append(score_clip(clip, audio, sr, heard))
    return sorted(out, key=lambda s: (-s.score, abs(s.seconds - 6.0)))


def describe(s: RefScore) -> str:
    """One line per clip (``gsv synthesize --list-refs``, the job log)."""
    loud = "?" if s.loudness_lufs is None else f"{s.loudness_lufs:.0f}"
    asr = "" if s.asr_error is None else f"  asr {1 - min(s.asr_error, 1):.0%}"
    notes = f"  ({', '.join(s.notes)})" if s.notes else ""
    return (f"{s.score:4.2f}  {s.seconds:4.1f} s  {loud:>3} LUFS  snr {s.snr_db:4.0f} dB"
            f"{asr}  {s.wav}  {s.text[:50]}{notes}")


# --- "try the top 5" ---------------------------------------------------------------------
def run_try_refs(req: Any, stop: StopToken | None = None) -> Iterator[Event]:
    """The test sentence read with each of the top ``req.top`` references (newest weights
    unless named), one wav each under output/references/ (this action's folder: a re-run
    replaces its earlier readings), with the ranking beside them."""
    validate(req)
    import json

    from engine.atomic import atomic_write_text
    from engine.dataset.format.models import pick_device
    from engine.models.gpt import Sampling
    from engine.synth import weights
    from engine.synth.backcheck import open_checker
    from engine.synth.listen import DEFAULT_SENTENCE
    from engine.synth.outputs import check_name
    from engine.synth.pipeline import SR, SpeakOptions, prepare_reference, speak
    from engine.synth.step import write_wav
    from engine.synth.voice import load_helpers, load_voice, needs_bert

    layout, version = weights.project_of(Path(req.project_root).expanduser())
    device = pick_device(req.device)
    checker = open_checker(req.asr_model_dir, req.language, device) if req.use_asr else None
    if req.use_asr and checker is None:
        yield Log("No ASR model installed: ranking by loudness, noise and clipping only.")
    ranked = rank(layout, checker)
    if not ranked:
        raise StepError("No proofread clip of 3–10 s is available as a reference.",
                        "Proofread some clips first.")
    for s in ranked:
        yield Log(describe(s))
    top = ranked[: req.top]
    text = req.text.strip() or DEFAULT_SENTENCE[req.language]
    gpt_path = weights.pick(layout, req.gpt_path, "GPT")
    sovits_path = weights.pick(layout, req.sovits_path, "SoVITS")
    bert, hubert = yield from load_helpers(
        device, bert=needs_bert(req.language, *(s.language for s in top)), hubert=True,
        bert_dir=req.bert_dir, hubert_dir=req.hubert_dir, allow_download=req.allow_download)
    voice = yield from load_voice(layout, version, gpt_path, sovits_path, device, bert, hubert)
    out_dir = layout.output_dir / "references"
    opts = SpeakOptions("cut0", Sampling(), req.seed)
    written, started = [], time.monotonic()
    for n, s in enumerate(top):
        if stop is not None and stop.requested:
            yield Log(f"Stopped after {n} of {len(top)} references.", "warning")
            break
        prepared = prepare_reference(voice, str(layout.abs(s.wav)), s.text, s.language)
        wav = np.concatenate([p.audio for p in speak(voice, prepared, text, req.language, opts)])
        out = out_dir / check_name(f"{n + 1:02d}-{Path(s.wav).stem}.wav", "reference reading")
        write_wav(out, wav, SR)
        written.append({"path": layout.rel(out), "rank": n + 1} | asdict(s))
        yield Artifact(layout.rel(out), kind="audio")
        elapsed = time.monotonic() - started
        yield Progress(STEP, n + 1, len(top), eta_s=elapsed / (n + 1) * (len(top) - n - 1),
                       message=f"{n + 1}. {s.wav}")
    atomic_write_text(out_dir / "ranking.json", json.dumps(
        {"text": text, "seed": req.seed, "ranking": [asdict(s) for s in ranked]},
        ensure_ascii=False, indent=1))
    yield Result(f"Read the test sentence with the top {len(written)} reference(s) into "
                 f"{layout.rel(out_dir)}/; listen and pick one.",
                 {"wavs": written, "text": text, "best": ranked[0].wav,
                  "scores": {s.wav: s.score for s in ranked}})
