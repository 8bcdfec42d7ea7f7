"""MDXC family: MDX23C, BS-RoFormer and Mel-Band-RoFormer checkpoints (``.ckpt`` + the
same-name ``.yaml``), loaded into our own torch modules and run in overlapping chunks.

``load_mdxc(ckpt, yaml, device)`` reads the yaml (mdxc_config), builds the architecture it
describes, loads the state dict with ``torch.load(weights_only=True)`` and refuses any key or
shape mismatch with a sentence naming the file and the first bad key. The Separator it returns
follows engine/audio/separation/base.py.

What comes out: the voice-like stem first. A model that predicts the voice (vocals, dry,
noreverb…) gives it directly and the rest as mixture − voice; one that predicts what to remove
(instrumental, reverb, other) gives mixture − prediction as the voice; a model that predicts
two stems without a target gives both as predicted (as upstream writes them).

Memory of one ``separate`` call: the wave, its padded copy, one accumulator per network output
(each the wave's size), one float per sample of weight, the returned pair, and
``inference.batch_size`` chunks inside the network (chunked.py). The caller bounds the wave
(base.py: segments).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from engine.audio.separation.mdxc_config import MDX23C, MdxcConfig, read_config
from engine.events import StepError

_VOICE_WORDS = ("vocal", "voice", "speech", "dialog", "sing")
_VOICE_NAMES = {"dry", "noreverb", "dereverb", "noecho", "deecho", "nodelay", "clean"}


def is_voice(name: str) -> bool:
    n = "".join(ch for ch in name.lower() if ch.isalnum())
    if n in _VOICE_NAMES:
        return True
    if n.startswith(("no", "non", "without", "inst", "karaoke", "back")):
        return False
    return any(w in n for w in _VOICE_WORDS)


@dataclass(frozen=True)
class StemPlan:
    """How the network's outputs become (voice, rest)."""
    voice_index: int
    voice_is_prediction: bool  # False: the network predicts what to remove (voice = mix − it)
    rest_index: int | None     # a second predicted stem used as the rest, else mix − voice


def stem_plan(cfg: MdxcConfig) -> StemPlan:
    stems = cfg.stems
    if len(stems) == 1:
        target = stems[0]
        if is_voice(target) or not any(is_voice(i) for i in cfg.training.instruments):
            return StemPlan(0, True, None)
        return StemPlan(0, False, None)
    voice = next((i for i, s in enumerate(stems) if is_voice(s)), 0)
    rest = 1 - voice if len(stems) == 2 else None
    return StemPlan(voice, True, rest)


def _load_state(path: Path) -> dict:
    import torch

    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except OSError as exc:
        raise StepError(f"Cannot read {path.name} ({exc.strerror})",
                        "Check the file is there and readable.") from exc
    except Exception as exc:  # noqa: BLE001 - unpickling refused or damaged archive
        raise StepError(f"{path.name} is not a plain PyTorch checkpoint of weights "
                        f"({str(exc).splitlines()[0][:120]})",
                        "Use the .ckpt published with the yaml (a state dict of tensors); "
                        "a damaged download needs fetching again.") from exc
    for key in ("state_dict", "model", "state"):  # Lightning-style or wrapped saves
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise StepError(f"{path.name} holds no state dict of tensors",
                        "Use the .ckpt published with the yaml.")
    if obj and all(k.startswith("model.") for k in obj):
        obj = {k[len("model."):]: v for k, v in obj.items()}
    return obj


def _lucidrains_layout(model: Any, state: dict) -> dict:
    """lucidrains' own Mel-Band-RoFormer keeps an empty slot for the linear transformer
    (``layers.<i>.1``/``.2`` = time/frequency); ZFTurbo's, which the published models use,
    does not (``.0``/``.1``). Shift a file saved the first way when our model has no slot."""
    pat = re.compile(r"^layers\.(\d+)\.2\.")
    if any(pat.match(k) for k in model.state_dict()) or not any(pat.match(k) for k in state):
        return state
    return {re.sub(r"^layers\.(\d+)\.(\d+)\.",
                   lambda m: f"layers.{m[1]}.{int(m[2]) - 1}.", k): v for k, v in state.items()}


def _load_strict(model: Any, state: dict, ckpt: Path, yaml: Path) -> None:
    """Every key and shape must match; rotary frequencies (fixed, derived from dim_head) may be
    absent, as in some converted files."""
    own = model.state_dict()
    hint = (f"Use the yaml published with this checkpoint; {yaml.name} describes a different "
            "model (size, bands, depth or stems).")
    for key, tensor in own.items():
        if key not in state:
            if key.endswith("rotary_embed.freqs"):
                continue
            raise StepError(f"{ckpt.name} does not match {yaml.name}: it lacks {key}", hint)
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise StepError(f"{ckpt.name} does not match {yaml.name}: {key} is "
                            f"{tuple(state[key].shape)} in the file, {tuple(tensor.shape)} "
                            "by the yaml", hint)
    extra = [k for k in state if k not in own]
    if extra:
        raise StepError(f"{ckpt.name} does not match {yaml.name}: the file has {extra[0]}, "
                        "which the yaml's model does not", hint)
    model.load_state_dict(state, strict=False)


class MdxcSeparator:
    def __init__(self, model: Any, cfg: MdxcConfig, name: str, device: str) -> None:
        self.model, self.cfg, self.name, self.device = model, cfg, name, device
        self.sample_rate = cfg.audio.sample_rate
        self.arch = cfg.arch
        self.plan = stem_plan(cfg)
        self.model_channels = (cfg.audio.num_channels if cfg.arch == MDX23C
                               else (2 if cfg.model.stereo else 1))

    def _run(self, batch: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
            return self.model(x).float().cpu().numpy()

    def _tracks(self, wave: np.ndarray) -> list[np.ndarray]:
        """The wave as the network's channel count wants it: a mono network sees each channel
        on its own, a stereo one sees a mono wave twice."""
        ch, mc = wave.shape[0], self.model_channels
        if ch == mc:
            return [wave]
        if mc == 1:
            return [wave[i:i + 1] for i in range(ch)]
        if ch == 1:
            return [np.repeat(wave, mc, axis=0)]
        raise StepError(f"{self.name} takes {mc} channel(s), the audio has {ch}",
                        "Give mono or stereo audio.")

    def separate(self, wave: np.ndarray, progress: Callable[[float], None] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        wave = np.ascontiguousarray(wave, dtype=np.float32)
        if wave.ndim != 2:
            raise StepError(f"{self.name}: expected audio as [channels, samples], got shape "
                            f"{wave.shape}", "Give mono or stereo audio.")
        from engine.audio.separation.chunked import overlap_add

        tracks = self._tracks(wave)
        inf, chunk = self.cfg.inference, self.cfg.audio.chunk_size
        outs = []
        for t, track in enumerate(tracks):
            mean, std = 0.0, 1.0
            if inf.normalize:  # as the yaml asks: the network saw standardised mixtures
                mono = track.mean(axis=0)
                mean, std = float(mono.mean()), float(mono.std()) or 1.0
                track = (track - mean) / std
            done = (lambda f, t=t: progress((t + f) / len(tracks))) if progress else None
            out = overlap_add(track, self._run, chunk, inf.num_overlap, inf.batch_size, done)
            outs.append(out * std + mean if inf.normalize else out)
        stems = (np.concatenate(outs, axis=1) if len(outs) > 1 and self.model_channels == 1
                 else outs[0])
        if wave.shape[0] == 1 and self.model_channels > 1:
            stems = stems.mean(axis=1, keepdims=True)
        p = self.plan
        pred = stems[p.voice_index]
        voice = pred if p.voice_is_prediction else wave - pred
        rest = stems[p.rest_index] if p.rest_index is not None else wave - voice
        return np.ascontiguousarray(voice, np.float32), np.ascontiguousarray(rest, np.float32)


def load_mdxc(ckpt: Path, yaml: Path, device: str = "cpu") -> MdxcSeparator:
    ckpt, yaml = Path(ckpt), Path(yaml)
    cfg = read_config(yaml, ckpt.name)
    if cfg.arch == MDX23C:
        from engine.audio.separation.mdx23c import TfcTdfNet

        model = TfcTdfNet(cfg.audio, cfg.model, len(cfg.stems))
    else:
        from engine.audio.separation.roformer import build

        try:
            model = build(cfg.arch, cfg.model)
        except ValueError as exc:
            raise StepError(f"{yaml.name}: {exc}", "Use the yaml published with the "
                            "checkpoint.") from exc
    state = _load_state(ckpt)
    if cfg.arch != MDX23C:
        state = _lucidrains_layout(model, state)
    _load_strict(model, state, ckpt, yaml)
    try:
        model = model.to(device).eval()
    except (RuntimeError, AssertionError) as exc:
        raise StepError(f"Cannot put {ckpt.name} on {device} ({str(exc)[:100]})",
                        "Use device cpu, or check the GPU with gsv doctor.") from exc
    return MdxcSeparator(model, cfg, ckpt.name, device)
