"""``run_convert``: the voice changer step. Each source is decoded at 32 kHz, cut at pauses
when longer than the longest piece, and each piece goes through HuBERT and the voice's
SoVITS quantizer (semantic tokens: the words, timing and prosody of the source), then the
SoVITS decoder renders those tokens with the target voice's reference, guided by the
piece's phonemes (its text: given, or the project's ASR). The pieces go back at their
source offsets, so the result is as long as the source (divided by the speed), and land
under ``output/converted/`` next to a ``.json`` naming the source and each piece's text.
Sources are only read; an earlier result is never replaced (``-2``, ``-3``, …)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Generator, Iterator

from engine.convert.plan import (SR, TOO_SHORT_S, Span, cut, find_sources, output_stem, place,
                                 share_text, shift_pitch)
from engine.convert.request import ConvertRequest
from engine.diskfull import on_full
from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.settings import validate

STEP = "convert"
OUT_FOLDER = "converted"  # under output/: the registry's "output/converted/"


def phone_ids(text: str, language: str, version: str) -> list[int]:
    """Phoneme ids of a piece's text (a pause when it has none: a breath, a noise)."""
    from engine.text.mixed import clean_mixed
    from engine.text.symbols import cleaned_text_to_sequence, symbol_to_id

    ids: list[int] = []
    for _, cleaned in clean_mixed(text, language, version):
        ids += cleaned_text_to_sequence(cleaned.phones, version)
    return ids or [symbol_to_id(version)["SP"]]


def _asr_language(language: str) -> str:
    from engine.asr.request import LANGUAGES

    return language if language in LANGUAGES else "auto"


def open_asr(root: Path, language: str, allow_download: bool
             ) -> Generator[Event, None, Any]:
    """The project's recogniser, with the settings its ASR step would use (model, device…),
    told the source's language (and kept offline when this run is)."""
    from engine.asr.step import choose_model, open_backend
    from engine.asr.whisper import resolve_device
    from engine.project import ProjectError, load_project
    from engine.requests import build_request

    given: dict[str, Any] = {"language": _asr_language(language)}
    if not allow_download:
        given["allow_download"] = False
    try:
        asr = build_request(load_project(root), "asr", given)
    except ProjectError:  # a bare folder: the recogniser's defaults
        from engine.asr.request import AsrRequest

        asr = AsrRequest(project_root=str(root), **given)
    device = resolve_device(asr.device)
    backend, model = choose_model(asr, device)
    return (yield from open_backend(asr, backend, model, device))


def transcribe(backend: Any, pieces16: list[Any]) -> list[str]:
    from engine.asr.backend import ClipAudio

    clips = [ClipAudio(str(i), a) for i, a in enumerate(pieces16) if a.size]
    texts = {r.key: r.text.strip() for r in backend.transcribe(clips) if not r.error}
    return [texts.get(str(i), "") for i in range(len(pieces16))]


def load_hubert(req: ConvertRequest, device: str) -> Generator[Event, None, Any]:
    from engine.dataset.format.models import HUBERT_SPEC, HubertFeatures, weights_spec
    from engine.hub import ensure_model

    folder = yield from ensure_model(weights_spec(HUBERT_SPEC), req.hubert_dir or None,
                                     allow_download=req.allow_download, step=STEP)
    return HubertFeatures(folder, device, False)


def to_16k(x32):
    import librosa
    import numpy as np

    return np.ascontiguousarray(librosa.resample(x32, orig_sr=SR, target_sr=16000),
                                dtype=np.float32)


def convert_piece(sovits: Any, hubert: Any, specs: list, piece32, text: str, req: ConvertRequest,
                  version: str, seed: int):
    """One piece of source speech -> the same tokens spoken by the voice (32 kHz)."""
    import numpy as np
    import torch

    from engine.models.sovits import ssl_to_codes, synthesize

    if len(piece32) < TOO_SHORT_S * SR:
        return np.zeros(int(len(piece32) / req.speed), dtype=np.float32)
    codes = ssl_to_codes(sovits, hubert(to_16k(piece32)))
    torch.manual_seed(seed)  # the decoder draws its noise from the global generator
    audio = synthesize(sovits, codes, phone_ids(text, req.language, version), specs,
                       req.noise_scale, req.speed)
    audio = shift_pitch(audio, req.pitch_semitones)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    return (audio / peak if peak > 1 else audio).astype(np.float32)


def _pieces_text(req: ConvertRequest, spans: list[Span], x32, asr: Any) -> list[str]:
    if req.text.strip():
        return share_text(req.text, spans, req.language)
    return transcribe(asr, [to_16k(x32[s.start:s.end]) for s in spans])


def run_convert(req: ConvertRequest, stop: StopToken | None = None) -> Iterator[Event]:
    validate(req)
    from engine.audio.decode import DecodeError, load_mono
    from engine.dataset.format.models import pick_device
    from engine.synth import outputs, reference, weights
    from engine.synth.step import wav_bytes
    from engine.synth.weights import project_of

    root = Path(req.project_root).expanduser()
    layout, version = project_of(root)
    files = find_sources(req.sources, layout.root)
    if req.text.strip() and len(files) > 1:
        raise StepError(f"One text was given for {len(files)} source files.",
                        "Convert one file at a time with its text, or leave the text empty "
                        "so the ASR transcribes each file.")
    folder = layout.output_dir / OUT_FOLDER
    for f in files:
        outputs.check_name(output_stem(f))
    ref = reference.resolve(layout, req.ref_wav, "", "", ref_free=True)  # timbre only
    yield Log(f"Reference: {ref.wav} ({ref.seconds:.1f} s)")
    sovits_path = weights.pick(layout, req.sovits_path, "SoVITS")
    device = pick_device(req.device)
    asr = None  # first: a missing recogniser is said before the big loads
    if not req.text.strip():
        asr = yield from open_asr(root, req.language, req.allow_download)

    from engine.models.sovits import load_sovits, reference_spec

    sovits = load_sovits(sovits_path, device=device)
    yield Log(f"SoVITS: {layout.rel(sovits_path)}")
    specs = [reference_spec(load_mono(layout.abs(ref.wav), SR)[0])]
    hubert = yield from load_hubert(req, device)

    written: list[dict] = []
    skipped: list[dict] = []
    started = time.monotonic()
    for n, src in enumerate(files):
        if stop is not None and stop.requested:
            yield Log(f"Stopped before {src.name}; {len(written)} file(s) converted.", "warning")
            break
        try:
            x32, _ = load_mono(src, SR)
        except DecodeError as exc:
            skipped.append({"source": str(src), "reason": exc.reason})
            yield Log(f"{src.name}: {exc.reason}; skipped", "warning")
            continue
        spans = cut(x32, req.max_clip_s, req.threshold_db)
        if not spans:
            skipped.append({"source": str(src), "reason": "it holds no audio"})
            yield Log(f"{src.name} holds no audio; skipped", "warning")
            continue
        texts = _pieces_text(req, spans, x32, asr)
        if asr is not None:
            yield Log(f"{src.name}: ASR heard " + " | ".join(repr(t) for t in texts))
        done: list[tuple[Span, Any]] = []
        for i, (span, text) in enumerate(zip(spans, texts)):
            audio = convert_piece(sovits, hubert, specs, x32[span.start:span.end], text, req,
                                  version, req.seed + i)
            done.append((span, audio))
            elapsed = time.monotonic() - started
            frac = n + (i + 1) / len(spans)
            yield Progress(STEP, round(frac, 3), len(files),
                           eta_s=elapsed / frac * (len(files) - frac),
                           message=f"{src.name}: piece {i + 1}/{len(spans)}"
                                   + (f": {text[:40]}" if text else ""))
            if stop is not None and stop.requested and i + 1 < len(spans):
                break
        if len(done) < len(spans):  # half a file would not keep the source's timing
            yield Log(f"Stopped inside {src.name}; it is not written.", "warning")
            break
        # rendered_s: what the decoder made of each piece, before it is fitted to its place.
        pieces = [{"start_s": round(s.start / SR, 3), "end_s": round(s.end / SR, 3),
                   "rendered_s": round(len(a) / SR, 3), "text": t}
                  for (s, a), t in zip(done, texts)]
        wav = place(len(x32), done, req.speed)
        data = wav_bytes(wav, SR)
        with on_full(folder, lambda: len(data) + 65536):
            out = outputs.write_new(outputs.wav_path(folder, output_stem(src)), data,
                                    also_free=(".json",))
            try:
                _write_sidecar(out, req, src, ref.wav, layout.rel(sovits_path), pieces)
            except BaseException:  # a result without its source note: take it back whole
                out.unlink(missing_ok=True)
                raise
        yield Artifact(layout.rel(out), kind="audio")
        written.append({"source": str(src), "path": layout.rel(out),
                        "source_s": round(len(x32) / SR, 3),
                        "seconds": round(len(wav) / SR, 3),
                        "pieces": pieces})
    if not written and skipped:
        raise StepError(f"No source could be converted ({skipped[0]['reason']}).",
                        "Give speech in a format FFmpeg reads (wav, flac, mp3, m4a…).")
    stopped = len(written) + len(skipped) < len(files)
    summary = (f"Converted {len(written)} of {len(files)} file(s) into "
               f"{layout.rel(folder)}/" + (f"; skipped {len(skipped)}" if skipped else ""))
    yield Result(summary + ("; stopped" if stopped else "") + ".",
                 {"files": written, "skipped": skipped, "stopped": stopped,
                  "ref_wav": ref.wav, "sovits": layout.rel(sovits_path)})


def sidecar_of(wav: Path) -> Path:
    return wav.with_suffix(".json")


def _write_sidecar(wav: Path, req: ConvertRequest, source: Path, ref_wav: str, sovits: str,
                   pieces: list[dict]) -> None:
    """What made this file: its source (for hearing both side by side), the reference,
    weights and knobs, and each piece with its text."""
    import dataclasses

    from engine.atomic import atomic_write_text

    request = dataclasses.asdict(req) | {"sources": [str(source)], "ref_wav": ref_wav,
                                         "sovits_path": sovits}
    atomic_write_text(sidecar_of(wav), json.dumps(
        {"source": str(source), "request": request, "pieces": pieces},
        ensure_ascii=False, indent=1))
