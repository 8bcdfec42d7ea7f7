"""``run_synthesis``: the synthesize step. Finds the voice's weights (newest exports unless
named), loads BERT/HuBERT through the hub, speaks the text piece by piece with progress,
and writes one 16-bit 32 kHz WAV under ``output/`` (atomically)."""
from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Iterator

from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.layout import Layout
from engine.settings import validate
from engine.synth.request import SynthRequest

STEP = "synthesize"


def _project(root: Path) -> tuple[Layout, str]:
    try:
        from engine.project import load_project

        p = load_project(root)
        return p.layout, p.version
    except Exception:  # noqa: BLE001 -- a bare folder without project.toml still works
        from engine.slug import slugify

        return Layout(root, slugify(root.resolve().name) or "voice"), "v2"


def _newest(folder: Path, pattern: str, what: str) -> Path:
    def epoch(p: Path) -> tuple[int, float]:
        m = re.search(r"[-_]e(\d+)", p.stem)
        return (int(m[1]) if m else -1, p.stat().st_mtime)

    found = sorted(folder.glob(pattern), key=epoch) if folder.is_dir() else []
    if not found:
        raise StepError(f"No trained {what} weights in {folder.name}/.",
                        "Train first, or choose a weights file in the settings.")
    return found[-1]


def _pick(layout: Layout, given: str, folder: Path, pattern: str, what: str) -> Path:
    if not given:
        return _newest(folder, pattern, what)
    path = layout.abs(given).expanduser()
    if not path.is_file():
        raise StepError(f"The {what} weights file {given} does not exist.",
                        "Pick an existing file, or leave it empty for the newest export.")
    return path


def run_synthesis(req: SynthRequest, stop: StopToken | None = None) -> Iterator[Event]:
    validate(req)
    import numpy as np
    import soundfile as sf
    import torch

    from engine.atomic import atomic_write_bytes
    from engine.dataset.format.models import (BERT_SPEC, HUBERT_SPEC, BertFeatures,
                                              HubertFeatures, pick_device, weights_spec)
    from engine.hub import ensure_model
    from engine.models.gpt import Sampling, load_gpt
    from engine.models.sovits import load_sovits
    from engine.synth.pipeline import SR, SpeakOptions, Voice, prepare_reference, speak

    if not req.text.strip():
        raise StepError("There is no text to speak.", "Type what the voice should say.")
    layout, version = _project(Path(req.project_root).expanduser())
    if not req.ref_wav:
        raise StepError("No reference clip is chosen.", "Pick a 3–10 s clip of the voice.")
    ref_wav = layout.abs(req.ref_wav)
    if not ref_wav.is_file():
        raise StepError(f"The reference clip {req.ref_wav} does not exist.", "Pick another clip.")
    device = pick_device(req.device)
    gpt_path = _pick(layout, req.gpt_path, layout.gpt_weights_dir, "*.ckpt", "GPT")
    sovits_path = _pick(layout, req.sovits_path, layout.sovits_weights_dir, "*.pth", "SoVITS")
    gpt = load_gpt(gpt_path, device=device)
    yield Log(f"GPT: {layout.rel(gpt_path)} ({gpt.info or 'no info'})")
    sovits = load_sovits(sovits_path, device=device)
    yield Log(f"SoVITS: {layout.rel(sovits_path)}")
    bert = hubert = None
    if "zh" in (req.language, req.ref_language):
        folder = yield from ensure_model(weights_spec(BERT_SPEC), req.bert_dir or None,
                                         allow_download=req.allow_download, step=STEP)
        bert = BertFeatures(folder, device, False)
    if req.ref_text.strip():
        folder = yield from ensure_model(weights_spec(HUBERT_SPEC), req.hubert_dir or None,
                                         allow_download=req.allow_download, step=STEP)
        hubert = HubertFeatures(folder, device, False)
    voice = Voice(gpt.model, sovits, version, int(gpt.full_config.get("data", {}).get("max_sec", 54)),
                  bert, hubert)
    ref = prepare_reference(voice, str(ref_wav), req.ref_text, req.ref_language,
                            pause_s=req.pause_s)
    if ref.codes is None:
        yield Log("No reference text: reference-free mode (the voice may drift).", "warning")
    seed = req.seed if req.seed >= 0 else int(torch.randint(0, 2**31 - 1, (1,)))
    opts = SpeakOptions(req.cut_method, Sampling(req.top_k, req.top_p, req.temperature,
                                                 req.repetition_penalty),
                        seed, req.speed, 0.5, req.pause_s)
    parts: list[np.ndarray] = []
    started = time.monotonic()
    for i, n, audio in speak(voice, ref, req.text, req.language, opts):
        parts.append(audio)
        elapsed = time.monotonic() - started
        yield Progress(STEP, i + 1, n, eta_s=elapsed / (i + 1) * (n - i - 1),
                       message=f"piece {i + 1}/{n}", metrics={"audio_s": len(audio) / SR})
        if stop is not None and stop.requested and i + 1 < n:
            yield Log(f"Stopped after {i + 1} of {n} pieces; writing what is done.", "warning")
            break
    wav = np.concatenate(parts)
    name = req.output_name or f"{layout.slug}-{time.strftime('%Y%m%d-%H%M%S')}.wav"
    out = layout.output_dir / (name if name.endswith(".wav") else name + ".wav")
    buf = io.BytesIO()
    sf.write(buf, np.clip(wav, -1, 1), SR, subtype="PCM_16", format="WAV")
    atomic_write_bytes(out, buf.getvalue())
    yield Artifact(layout.rel(out), kind="audio")
    yield Result(f"Spoke {len(parts)} piece(s), {len(wav) / SR:.1f} s, into {layout.rel(out)}.",
                 {"path": layout.rel(out), "seconds": len(wav) / SR, "seed": seed,
                  "pieces": len(parts)})
