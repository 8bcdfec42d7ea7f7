"""The Clean step's model chain: which files (named, or a preset's), loaded by family, and
the stream that runs a recording through them in order with bounded memory."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from engine.audio.separation.base import Separator
from engine.events import StepError


def uvr_dir() -> Path:
    from engine.appconfig import models_dir

    return models_dir() / "uvr5"


def resolve_models(names: list[str], preset: str) -> list[Path]:
    """Named models first (a path, or a name under <models>/uvr5/), then the preset's."""
    from engine.audio.separation import presets

    folder = uvr_dir()
    paths: list[Path] = []
    for name in names:
        p = Path(name).expanduser()
        for cand in (p, folder / name):
            if cand.is_file():
                paths.append(cand)
                break
        else:
            raise StepError(f"Model not found: {name}",
                            f"Put .onnx / .pth / .ckpt models under {folder} or give a full "
                            "path (gsv models lists the known ones).")
    if preset:
        paths += presets.resolve(preset, folder)
    if not paths:
        raise StepError("Separation needs at least one model (MDX-Net ONNX, VR .pth or "
                        "MDXC/RoFormer .ckpt)",
                        f"Name models, or use a preset (seed-recipe, dereverb-deecho, "
                        f"roformer-vocals) with models in {folder}.")
    return paths


def load_chain(paths: list[Path], request) -> list[Separator]:
    from engine.audio.separation.families import LoadOptions, load_separator
    from engine.audio.separation.vr import VrOptions

    opts = LoadOptions(
        device=request.device,
        mdx={"n_fft": request.mdx_n_fft, "hop": request.mdx_hop, "output": request.mdx_output},
        vr=VrOptions(aggressiveness=request.vr_aggressiveness / 100, window=request.vr_window,
                     tta=request.vr_tta, voice=request.vr_voice, params=request.vr_params))
    return [load_separator(p, opts) for p in paths]


def chain_stream(chain: list[Separator], blocks: Iterator[np.ndarray], sr: int,
                 segment_s: float) -> tuple[Iterator[np.ndarray], int]:
    """(voice blocks, their rate): each model gets stereo at its own rate, in chain order."""
    from engine.audio.separation import segment

    stream, rate = blocks, sr
    for k, sep in enumerate(chain):
        stream = segment.stereo_at(stream, rate, sep.sample_rate) if k == 0 or \
            rate != sep.sample_rate else stream
        rate = sep.sample_rate
        stream = segment.stream(sep, stream, segment_s)
    return stream, rate


def mix_at(make_blocks: Callable[[], Iterator[np.ndarray]], sr: int, rate: int,
           mono: bool) -> Callable[[], Iterator[np.ndarray]]:
    """The input as the chain's output is laid out (for "what was removed")."""
    from engine.audio.separation.segment import stereo_at

    def blocks() -> Iterator[np.ndarray]:
        for b in stereo_at(make_blocks(), sr, rate):
            yield b.mean(axis=1, keepdims=True) if mono else b
    return blocks
