"""The denoise step (Clean): audio/raw → audio/clean, by spectral gating (default, no
weights) or by a chain of the user's UVR5 separation models of any family (MDX-Net .onnx,
VR .pth, MDXC/RoFormer .ckpt; engine/audio/separation), run in order with bounded memory.
Inputs untouched; the removed part is written only when asked."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from engine.atomic import atomic_write_text
from engine.diskfull import on_full
from engine.audio.decode import AUDIO_EXTS, DecodeError, iter_blocks, probe
from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.layout import Layout
from engine.settings import knob

MANIFEST = "manifest.json"
PRESET_CHOICES = ("", "seed-recipe", "dereverb-deecho", "roformer-vocals")  # separation.presets


@dataclass
class DenoiseRequest:
    project_root: str
    source: str = ""  # file or folder; empty: audio/raw
    method: str = knob("spectral", "spectral: built-in gate (CPU, no weights); models (or "
                       "its old name mdx): your UVR5 models, in order",
                       choices=("spectral", "models", "mdx"))
    models: list[str] = knob([], "Model files in order (names under the models folder's "
                             "uvr5/, or paths): MDX-Net .onnx, VR .pth, MDXC/RoFormer .ckpt",
                             label="Models")
    preset: str = knob("", "A named chain from the models folder: seed-recipe (MDX-Net, then "
                       "DeEcho-Aggressive), dereverb-deecho (upstream's advice), "
                       "roformer-vocals", choices=PRESET_CHOICES)
    strength: float = knob(0.9, "How much of the noise to remove (spectral)", min=0.0, max=1.0)
    noise_std: float = knob(1.5, "Gate threshold above the noise floor, in its spreads "
                            "(spectral)", min=0.0, max=6.0, label="Gate threshold (noise spreads)")
    keep_other: bool = knob(False, "Also write what was removed, under audio/clean/other",
                            label="Keep what was removed")
    mdx_n_fft: int = knob(0, "FFT size of the MDX models (0: guess from the name)", min=0,
                          max=16384, label="MDX FFT size")
    mdx_hop: int = knob(1024, "STFT hop of the MDX models", min=16, max=4096,
                        label="MDX STFT hop")
    mdx_output: str = knob("auto", "Whether a model predicts the voice (target) or what to "
                           "remove (residual)", choices=("auto", "target", "residual"),
                           label="MDX output")
    vr_aggressiveness: int = knob(10, "How hard VR HP models cut (upstream's 0-20 slider)",
                                  min=0, max=20, label="VR aggressiveness")
    vr_window: int = knob(512, "Spectrogram frames a VR model sees at once (UVR: 320, 512, "
                          "1024)", min=160, max=2048, label="VR window")
    vr_tta: bool = knob(False, "VR: run every window twice, shifted, and average (slower)",
                        label="VR test-time augmentation")
    vr_voice: str = knob("auto", "Which VR output is the voice: auto (by the model's kind), "
                         "its mask, or the rest", choices=("auto", "mask", "rest"),
                         label="VR voice stem")
    vr_params: str = knob("", "VR model parameters: a JSON path or 4band_v2, 4band_v3, "
                          "1band_sr44100_hl512 (empty: beside the model, by name, or the "
                          "network's default)", label="VR model parameters")
    device: str = knob("auto", "Where models run (auto: the GPU when there is one)",
                       choices=("auto", "cpu", "cuda"))
    segment_s: float = knob(30.0, "Seconds of audio a model holds at a time: bounds memory "
                            "on long recordings", min=5.0, max=600.0, unit="s",
                            label="Segment length")


def uses_models(req: DenoiseRequest) -> bool:
    return req.method != "spectral"


def resolve_models(req: DenoiseRequest) -> list[Path]:
    from engine.audio.separation.chain import resolve_models as resolve

    return resolve(req.models, req.preset)


def find_inputs(req: DenoiseRequest, layout: Layout) -> list[Path]:
    src = layout.abs(req.source) if req.source else layout.raw_dir
    if src.is_file():
        return [src]
    files = sorted(p for p in src.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTS) \
        if src.is_dir() else []
    if not files:
        raise StepError(f"No recordings in {layout.rel(src)}", "Run the import step first.")
    return files


def _pipeline(req: DenoiseRequest, models: list) -> Callable:
    """(path, info) → (voice blocks, their sample rate, the matching input blocks)."""
    from engine.audio.separation.chain import chain_stream, mix_at
    from engine.audio.spectral_gate import GateParams, gate_blocks, learn_noise

    def build(path: Path, info):
        def raw():
            return iter_blocks(path, info)
        if req.method == "spectral":
            params = GateParams(strength=req.strength, n_std=req.noise_std)
            profile = learn_noise(raw, info.sample_rate, params)
            return (gate_blocks(raw(), info.sample_rate, profile, params),
                    info.sample_rate, raw)
        stream, rate = chain_stream(models, raw(), info.sample_rate, req.segment_s)
        mono = info.channels == 1
        if mono:  # give a mono recording back as mono
            stream = (b.mean(axis=1, keepdims=True) for b in stream)
        return stream, rate, mix_at(raw, info.sample_rate, rate, mono)

    return build


def _write_other(mix_blocks: Iterator[np.ndarray], voice: Path, other: Path) -> None:
    """What was removed = input − voice, read back block by block (temp file, then rename)."""
    import soundfile as sf

    from engine.audio.wavout import open_wav

    other.parent.mkdir(parents=True, exist_ok=True)
    tmp = other.with_name(f".{other.name}.part")
    try:
        with sf.SoundFile(str(voice)) as v, open_wav(tmp, v.samplerate, v.channels,
                                                     "PCM_16") as out:
            for block in mix_blocks:
                got = v.read(block.shape[0], dtype="float32", always_2d=True)
                out.write(block[:got.shape[0]] - got)
        os.replace(tmp, other)
    finally:
        tmp.unlink(missing_ok=True)


def _settings_key(request: DenoiseRequest, models: list) -> dict:
    """What decides a clean copy's content: a file made with the same key is kept."""
    key = {k: v for k, v in asdict(request).items() if k not in ("project_root", "source")}
    key["models"] = [[m.name, size] for m, size in models]
    return key


def _load_manifest(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return {}


def _space_needed(request: DenoiseRequest, inputs: list[Path]) -> int | None:
    """16-bit copies of every input (the removed part too when kept), at the rate the
    method writes: the estimate behind the disk-full sentence."""
    from engine.audio.mdx import MDX_SR

    total = 0
    for path in inputs:
        try:
            info = probe(path)
        except (DecodeError, OSError):
            continue
        rate = MDX_SR if uses_models(request) else info.sample_rate
        channels = 1 if info.channels == 1 else (2 if uses_models(request)
                                                 else info.channels)
        total += int((info.duration_s or 0) * rate * channels * 2)
    return total * (2 if request.keep_other else 1) + (1 << 20)


def run_denoise(request: DenoiseRequest, stop: StopToken | None = None) -> Iterator[Event]:
    layout = layout_of(request)
    with on_full(layout.clean_dir,
                 lambda: _space_needed(request, find_inputs(request, layout))):
        yield from _run_denoise(request, stop)


def layout_of(request: DenoiseRequest) -> Layout:
    return Layout(Path(request.project_root), "")


def _run_denoise(request: DenoiseRequest, stop: StopToken | None) -> Iterator[Event]:
    from engine.audio.wavout import open_wav

    layout = layout_of(request)
    inputs = find_inputs(request, layout)
    models, sized = [], []
    if uses_models(request):
        from engine.audio.separation.chain import load_chain
        from engine.audio.separation.families import describe

        paths = resolve_models(request)
        models = load_chain(paths, request)
        sized = [(m, p.stat().st_size) for m, p in zip(models, paths)]
        yield Log("Models, in order: " + "; ".join(describe(m) for m in models))
    build = _pipeline(request, models)
    out_dir = layout.clean_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(out_dir)
    key = _settings_key(request, sized)
    done_files, failed, kept = [], [], []
    t0 = time.monotonic()
    for k, path in enumerate(inputs):
        if stop is not None and stop.requested:
            yield Log("Stopped; finished files are kept", level="warning")
            break
        yield Progress("denoise", k, len(inputs), message=path.name)
        dest = out_dir / f"{path.stem}.wav"
        tmp = dest.with_name(f".{dest.name}.part")
        st = path.stat()
        stamp = {"input": layout.rel(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                 "settings": key, "keep_other": request.keep_other,
                 "chain": [m.name for m in models]}
        if manifest.get(dest.name) == stamp and dest.is_file():
            kept.append(dest.name)  # made before with the same input and settings
            continue
        try:
            info = probe(path)
            stream, sr, mix = build(path, info)
            total = (info.duration_s or 0) * sr
            written, last = 0, time.monotonic()
            channels = 1 if info.channels == 1 else (2 if uses_models(request)
                                                     else info.channels)
            with open_wav(tmp, sr, channels, "PCM_16") as out:
                for block in stream:
                    out.write(np.clip(block, -1.0, 1.0))
                    written += block.shape[0]
                    if time.monotonic() - last > 2 and total:
                        last = time.monotonic()
                        yield Progress("denoise", k + min(0.99, written / total), len(inputs),
                                       message=path.name)
                    if stop is not None and stop.requested:
                        raise DecodeError("stopped")
            os.replace(tmp, dest)
            if request.keep_other:
                _write_other(mix(), dest, out_dir / "other" / dest.name)
            done_files.append(dest.name)
            manifest[dest.name] = stamp
            atomic_write_text(out_dir / MANIFEST, json.dumps({"files": manifest}, indent=1,
                                                             ensure_ascii=False))
        except DecodeError as exc:
            failed.append({"source": path.name, "reason": exc.reason})
            yield Log(f"{path.name}: {exc.reason}", level="warning")
        finally:
            tmp.unlink(missing_ok=True)
    yield Progress("denoise", len(inputs), len(inputs))
    yield Artifact(layout.rel(out_dir), kind="folder")
    if (out_dir / MANIFEST).is_file():
        yield Artifact(layout.rel(out_dir / MANIFEST), kind="manifest")
    if stop is not None and stop.requested:
        return  # the runner reports the stop; finished files are kept
    if kept:
        yield Log(f"{len(kept)} file(s) already cleaned with these settings, kept")
    if not done_files and not kept:
        raise StepError("No file could be cleaned",
                        "; ".join(f"{f['source']}: {f['reason']}" for f in failed)[:300])
    yield Result(f"{len(done_files)} file(s) cleaned with {request.method} in "
                 f"{time.monotonic() - t0:.1f} s" + (f", {len(kept)} kept" if kept else ""),
                 data={"files": done_files, "kept": kept, "failed": failed,
                       "method": request.method,
                       "models": [m.name for m in models], "folder": layout.rel(out_dir)})
