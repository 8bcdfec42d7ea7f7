"""Listening to checkpoints (journey step 9): one test sentence read with every saved weight
file, one wav each under ``output/checkpoints/``, so the user picks the best by ear.

``each`` (default) pairs every SoVITS file with the newest GPT and every GPT file with the
newest SoVITS (n + m - 1 wavs); ``grid`` reads every combination (n x m). BERT, HuBERT and
the reference's HuBERT features load once; the prompt codes are redone per SoVITS file
(its quantizer makes them). The seed is the same for all, so differences are the weights'."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.settings import validate
from engine.synth.request import ListenCheckpointsRequest

STEP = "synthesize"
DEFAULT_SENTENCE = {"zh": "今天天气很好，我们一起去公园散步吧。",
                    "en": "The quick brown fox jumps over the lazy dog.",
                    "ja": "今日はいい天気ですね。", "auto": "今天天气很好。"}


def pairs(sovits: list[Path], gpt: list[Path], mode: str) -> list[tuple[Path, Path]]:
    if not sovits or not gpt:
        return []
    if mode == "grid":
        return [(s, g) for s in sovits for g in gpt]
    out = [(s, gpt[-1]) for s in sovits]
    out += [(sovits[-1], g) for g in gpt if g != gpt[-1]]
    return out


def wav_name(sovits: Path, gpt: Path) -> str:
    """One file per pair under output/checkpoints/ (this step's own folder: a re-run
    replaces its earlier reading of the same pair, and says so)."""
    from engine.synth.outputs import check_name

    return check_name(f"{sovits.stem}__{gpt.stem}.wav", "checkpoint reading")


def run_listen_checkpoints(req: ListenCheckpointsRequest,
                           stop: StopToken | None = None) -> Iterator[Event]:
    validate(req)
    import numpy as np
    import torch

    from engine.dataset.format.models import pick_device
    from engine.models.gpt import Sampling
    from engine.synth import reference, weights
    from engine.synth.pipeline import SR, SpeakOptions, prepare_reference, reference_ssl, speak
    from engine.synth.step import write_wav
    from engine.synth.voice import load_helpers, load_voice, needs_bert
    from engine.synth.weights import project_of

    layout, version = project_of(Path(req.project_root).expanduser())
    todo = pairs(weights.sovits_files(layout), weights.gpt_files(layout), req.pairs)
    if not todo:
        raise StepError("There are no trained weights to listen to.",
                        "Train first: SoVITS_weights/ and GPT_weights/ need at least one file each.")
    text = req.text.strip() or DEFAULT_SENTENCE[req.language]
    ref = reference.resolve(layout, req.ref_wav, req.ref_text, req.ref_language)
    yield Log(f"Test sentence: {text}")
    yield Log(f"Reference: {ref.wav} ({ref.seconds:.1f} s): {ref.text}")
    device = pick_device(req.device)
    bert, hubert = yield from load_helpers(
        device, bert=needs_bert(req.language, ref.language), hubert=True,
        bert_dir=req.bert_dir, hubert_dir=req.hubert_dir, allow_download=req.allow_download)
    ref_path = str(layout.abs(ref.wav))
    opts = SpeakOptions("cut0", Sampling(), req.seed)
    out_dir = layout.output_dir / "checkpoints"
    ssl = None
    written: list[dict] = []
    started = time.monotonic()
    for n, (sovits_path, gpt_path) in enumerate(todo):
        if stop is not None and stop.requested:
            yield Log(f"Stopped after {n} of {len(todo)} checkpoints.", "warning")
            return
        voice = yield from load_voice(layout, version, gpt_path, sovits_path, device, bert, hubert)
        if ssl is None:
            ssl = reference_ssl(voice, ref_path)
        prepared = prepare_reference(voice, ref_path, ref.text, ref.language, ssl=ssl)
        audio = [p.audio for p in speak(voice, prepared, text, req.language, opts)]
        out = out_dir / wav_name(sovits_path, gpt_path)
        wav = np.concatenate(audio)
        if out.exists():
            yield Log(f"Replacing the earlier reading {layout.rel(out)}.")
        write_wav(out, wav, SR)
        del voice
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # the next pair's weights replace these
        written.append({"path": layout.rel(out), "sovits": sovits_path.name, "gpt": gpt_path.name,
                        "seconds": round(len(wav) / SR, 3)})
        yield Artifact(layout.rel(out), kind="audio")
        elapsed = time.monotonic() - started
        yield Progress(STEP, n + 1, len(todo), eta_s=elapsed / (n + 1) * (len(todo) - n - 1),
                       message=f"{sovits_path.name} + {gpt_path.name}")
    yield Result(f"Read the test sentence with {len(written)} checkpoint pair(s) into "
                 f"{layout.rel(out_dir)}/; listen and pick the best.",
                 {"wavs": written, "text": text, "seed": req.seed})
