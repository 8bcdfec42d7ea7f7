"""``run_synthesize``: the synthesize step. Finds the voice's weights (newest exports unless
named), picks or checks the reference (3–10 s, text from the proofread list), loads
BERT/HuBERT through the hub, speaks the text piece by piece with progress, and writes one
16-bit 32 kHz WAV under ``output/`` (atomically, never over an earlier file; a name with a
folder in it is refused). The Result lists every piece with its seed, so one sentence can be
re-rolled with ``piece_seeds``. With an ASR model installed, each piece is back-checked and
re-rolled when it does not say its text (engine.synth.takes); the sidecar lists every take."""
from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any, Generator, Iterator

from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.settings import validate
from engine.synth.request import SynthRequest

STEP = "synthesize"


def wav_bytes(audio, sr: int) -> bytes:
    import numpy as np
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(audio, -1, 1), sr, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def write_wav(path: Path, audio, sr: int) -> None:
    """Write (or replace) ``path`` atomically: for files a step owns outright."""
    from engine.atomic import atomic_write_bytes

    atomic_write_bytes(path, wav_bytes(audio, sr))


def sidecar_of(wav: Path) -> Path:
    return wav.with_suffix(".json")


def write_sidecar(wav: Path, req: SynthRequest, resolved: dict, pieces: list[dict]) -> None:
    """``<name>.json`` beside the wav: the request with what was chosen for it (seed,
    reference, weight files) and its pieces, so one piece can be re-rolled later with
    everything else unchanged, even after newer checkpoints appear."""
    import dataclasses
    import json

    from engine.atomic import atomic_write_text

    request = dataclasses.asdict(req) | resolved
    atomic_write_text(sidecar_of(wav), json.dumps({"request": request, "pieces": pieces},
                                                  ensure_ascii=False, indent=1))


def reroll_request(sidecar: dict, piece: int, seed: int, output_name: str) -> SynthRequest:
    """The request that re-speaks the same text with piece ``piece`` on a new seed."""
    from engine.runner import request_from_dict

    req = request_from_dict(SynthRequest, sidecar["request"])
    # Pieces the back-check re-rolled keep the take they had (their seed is not seed + i);
    # the others get seed + i again, the same take.
    base = int(req.seed)
    kept = {str(i): int(p["seed"]) for i, p in enumerate(sidecar.get("pieces", []))
            if int(p["seed"]) != base + i}
    req.piece_seeds = kept | dict(req.piece_seeds) | {str(piece): seed}
    req.output_name = output_name
    return req


def new_seed() -> int:
    import secrets

    return secrets.randbelow(2**31 - 1)


def _piece_seeds(raw: dict) -> dict[int, int]:
    try:
        return {int(k): int(v) for k, v in raw.items()}
    except (TypeError, ValueError):
        raise StepError(f"piece_seeds {raw!r} is not a map of piece index to seed.",
                        'Write it as {"0": 123, "2": 456}.')


def open_back_check(req: SynthRequest, device: str) -> Generator[Event, None, Any]:
    """The back-check's recogniser (engine.synth.backcheck.Checker), or None when it is off
    or no ASR model is installed (a note says so; synthesis goes on unchecked)."""
    from engine.synth.backcheck import open_checker

    if not req.back_check:
        return None
    checker = open_checker(req.asr_model_dir, req.language, device)
    if checker is None:
        yield Log("Back-check skipped: no ASR model is installed (the Transcribe step "
                  "downloads one; or set the back-check ASR folder).")
        return None
    yield Log(f"Back-check with {checker.label}: pieces with more than "
              f"{req.max_error:.0%} misheard are re-rolled up to {req.max_rerolls} time(s).")
    return checker


def run_synthesize(req: SynthRequest, stop: StopToken | None = None) -> Iterator[Event]:
    validate(req)
    if not req.text.strip():
        raise StepError("There is no text to speak.", "Type what the voice should say.")
    import numpy as np

    from engine.dataset.format.models import pick_device
    from engine.models.gpt import Sampling
    from engine.synth import batching, outputs, reference, weights
    from engine.synth.backcheck import table_lines
    from engine.synth.pipeline import SR, SpeakOptions, prepare_reference
    from engine.synth.split import split_text
    from engine.synth.takes import speak_one
    from engine.synth.voice import load_helpers, load_voice, needs_bert
    from engine.synth.weights import project_of

    layout, version = project_of(Path(req.project_root).expanduser())
    name = req.output_name or f"{layout.slug}-{time.strftime('%Y%m%d-%H%M%S')}"
    wanted = outputs.wav_path(layout.output_dir, name)  # a bad name is refused before any work
    split_text(req.text, req.cut_method)  # refuse punctuation-only text before loading models
    piece_seeds = _piece_seeds(req.piece_seeds)
    ref = reference.resolve(layout, req.ref_wav, req.ref_text, req.ref_language, req.ref_free)
    yield Log(f"Reference: {ref.wav} ({ref.seconds:.1f} s)"
              + (f": {ref.text}" if ref.text else " (reference-free)"))
    aux = reference.aux_paths(layout, req.aux_refs)
    if aux:
        yield Log(f"Timbre averaged with {len(aux)} more clip(s): "
                  + ", ".join(layout.rel(p) for p in aux))
    gpt_path = weights.pick(layout, req.gpt_path, "GPT")
    sovits_path = weights.pick(layout, req.sovits_path, "SoVITS")
    device = pick_device(req.device)
    bert, hubert = yield from load_helpers(
        device, bert=needs_bert(req.language, ref.language if ref.text else ""),
        hubert=bool(ref.text), bert_dir=req.bert_dir, hubert_dir=req.hubert_dir,
        allow_download=req.allow_download)
    voice = yield from load_voice(layout, version, gpt_path, sovits_path, device, bert, hubert,
                                  precision=req.precision, allow_download=req.allow_download)
    prepared = prepare_reference(voice, str(layout.abs(ref.wav)), ref.text, ref.language,
                                 extra=aux, pause_s=req.pause_s)
    if prepared.codes is None:
        yield Log("No reference text: reference-free mode (the voice may drift).", "warning")
    seed = req.seed if req.seed >= 0 else new_seed()
    opts = SpeakOptions(req.cut_method, Sampling(req.top_k, req.top_p, req.temperature,
                                                 req.repetition_penalty),
                        seed, piece_seeds, req.speed, pause_s=req.pause_s)
    checker = yield from open_back_check(req, device)
    texts = split_text(req.text, req.cut_method, "en" if req.language == "en" else "zh")
    parts: list[np.ndarray] = []
    pieces: list[dict] = []
    started = time.monotonic()
    batching.configure(voice, req.batch_pieces, req.cuda_graphs)
    for i, text in enumerate(texts):
        if i % batching.BATCH_MAX == 0:
            yield from batching.ahead(voice, prepared, texts, list(range(i, len(texts))),
                                      req.language, opts)
        audio, record = yield from speak_one(voice, prepared, text, req.language, i, opts,
                                             checker, max_rerolls=req.max_rerolls,
                                             max_error=req.max_error)
        parts.append(audio)
        pieces.append(record)
        elapsed = time.monotonic() - started
        yield Progress(STEP, i + 1, len(texts), eta_s=elapsed / (i + 1) * (len(texts) - i - 1),
                       message=f"piece {i + 1}/{len(texts)}: {text[:40]}",
                       metrics={"audio_s": len(audio) / SR})
        if stop is not None and stop.requested and i + 1 < len(texts):
            yield Log(f"Stopped after {i + 1} of {len(texts)} pieces; writing what is done.",
                      "warning")
            break
    for line in table_lines(pieces):
        yield Log(line)
    wav = np.concatenate(parts)
    # Never over an earlier take: a taken name gets -2, -3, … (and its sidecar with it).
    out = outputs.write_new(wanted, wav_bytes(wav, SR), also_free=(".json",))
    if out != wanted:
        yield Log(f"{layout.rel(wanted)} already exists; wrote {out.name} beside it.")
    write_sidecar(out, req, {"seed": seed, "ref_wav": ref.wav, "ref_text": ref.text,
                             "ref_language": ref.language, "gpt_path": layout.rel(gpt_path),
                             "sovits_path": layout.rel(sovits_path)}, pieces)
    yield Artifact(layout.rel(out), kind="audio")
    checked = [p for p in pieces if "passed" in p]
    verdict = (f" Back-check: {sum(p['passed'] for p in checked)} of {len(checked)} piece(s) "
               "passed." if checked else "")
    yield Result(f"Spoke {len(parts)} piece(s), {len(wav) / SR:.1f} s, into {layout.rel(out)}."
                 + verdict,
                 {"path": layout.rel(out), "seconds": len(wav) / SR, "seed": seed,
                  "pieces": pieces, "ref_wav": ref.wav, "gpt": layout.rel(gpt_path),
                  "sovits": layout.rel(sovits_path)})
