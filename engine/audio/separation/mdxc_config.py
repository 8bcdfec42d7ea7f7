"""The YAML that travels beside an MDXC / RoFormer ``.ckpt``, read into typed settings.

The layout is the one ZFTurbo's Music-Source-Separation-Training (and UVR, and upstream
GPT-SoVITS's tools/uvr5) use: sections ``audio`` (chunk_size, dim_f, dim_t, hop_length,
n_fft, num_channels, sample_rate, min_mean_abs), ``model`` (the architecture's own fields),
``training`` (instruments, target_instrument) and ``inference`` (num_overlap, batch_size;
some files put chunk_size here). Those files tag tuples ``!!python/tuple``; we read them
with a safe loader that knows only that tag, never a loader that can build objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.events import StepError

BS_ROFORMER, MEL_ROFORMER, MDX23C = "bs_roformer", "mel_band_roformer", "mdx23c"

# Model fields that only matter for training or for speed tricks we do not need: accepted
# and ignored (they change no weight and no output).
_IGNORED = {"attn_dropout", "ff_dropout", "flash_attn", "multi_stft_resolution_loss_weight",
            "multi_stft_resolutions_window_sizes", "multi_stft_hop_size",
            "multi_stft_normalized", "use_torch_checkpoint", "sage_attention",
            "match_input_audio_length", "dim_freqs_in", "stft_window_fn",
            "multi_stft_window_fn"}


@dataclass(frozen=True)
class AudioSettings:
    chunk_size: int = 352800
    sample_rate: int = 44100
    num_channels: int = 2
    n_fft: int = 0          # MDX23C's STFT (RoFormers keep theirs in ``model``)
    hop_length: int = 0
    dim_f: int = 0
    dim_t: int = 0
    min_mean_abs: float = 0.0


@dataclass(frozen=True)
class TrainingSettings:
    instruments: tuple[str, ...] = ("vocals", "other")
    target_instrument: str | None = None


@dataclass(frozen=True)
class InferenceSettings:
    num_overlap: int = 2
    batch_size: int = 1
    normalize: bool = False


@dataclass(frozen=True)
class RoformerParams:
    """BS-RoFormer and Mel-Band-RoFormer share these; ``freqs_per_bands`` is BS only,
    ``num_bands``/``sample_rate`` Mel only."""
    dim: int
    depth: int
    stereo: bool = False
    num_stems: int = 1
    time_transformer_depth: int = 2
    freq_transformer_depth: int = 2
    linear_transformer_depth: int = 0
    freqs_per_bands: tuple[int, ...] = ()
    num_bands: int = 60
    sample_rate: int = 44100
    dim_head: int = 64
    heads: int = 8
    stft_n_fft: int = 2048
    stft_hop_length: int = 512
    stft_win_length: int = 2048
    stft_normalized: bool = False
    mask_estimator_depth: int = 2
    mlp_expansion_factor: int = 4
    skip_connection: bool = False


@dataclass(frozen=True)
class Mdx23cParams:
    num_channels: int
    num_subbands: int = 4
    num_scales: int = 5
    scale: tuple[int, int] = (2, 2)
    num_blocks_per_scale: int = 2
    growth: int = 128
    bottleneck_factor: int = 4
    norm: str = "InstanceNorm"
    act: str = "gelu"


@dataclass(frozen=True)
class MdxcConfig:
    arch: str
    audio: AudioSettings
    model: RoformerParams | Mdx23cParams
    training: TrainingSettings
    inference: InferenceSettings = field(default_factory=InferenceSettings)

    @property
    def stems(self) -> tuple[str, ...]:
        """The names of what the network outputs, in order."""
        t = self.training
        return (t.target_instrument,) if t.target_instrument else t.instruments


def _safe_yaml(text: str) -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("tag:yaml.org,2002:python/tuple",
                           lambda loader, node: tuple(loader.construct_sequence(node)))
    return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader with one extra tag


def _typed(cls, raw: dict, where: str, path: Path, ignore: set[str] = frozenset()):
    """Build ``cls`` from ``raw``, converting scalars to the field's type; an unknown key is a
    sentence (a field we do not implement could change what the model computes)."""
    names = {f.name: f for f in fields(cls)}
    out = {}
    for key, value in raw.items():
        if key in ignore:
            continue
        if key not in names:
            raise StepError(f"{path.name}: {where}.{key} is a setting this version does not "
                            "know, so the model might not run as trained",
                            "Use a BS-RoFormer, Mel-Band-RoFormer or MDX23C yaml as published "
                            "with the checkpoint, or tell us which model needs it.")
        out[key] = _convert(names[key].type, value, f"{where}.{key}", path)
    try:
        return cls(**out)
    except TypeError as exc:
        missing = str(exc).split("argument")[-1].strip(": '")
        raise StepError(f"{path.name}: {where} lacks {missing}",
                        "Use the yaml published with the checkpoint.") from exc


def _convert(kind: str, value: Any, where: str, path: Path) -> Any:
    try:
        if kind.startswith("tuple[str"):
            return tuple(str(v) for v in value)
        if kind.startswith("tuple"):
            return tuple(int(v) for v in value)
        if kind == "bool":
            if isinstance(value, str):
                return value.strip().lower() in ("true", "yes", "1")
            return bool(value)
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind.startswith("str | None"):
            return None if value in (None, "", "null", "None") else str(value)
        if kind == "str":
            return str(value)
    except (TypeError, ValueError) as exc:
        raise StepError(f"{path.name}: {where} = {value!r} is not a {kind}",
                        "Use the yaml published with the checkpoint.") from exc
    return value


def guess_arch(model: dict, name: str) -> str | None:
    """Which architecture a yaml's ``model`` section describes; the file name decides only
    when the fields do not (as upstream: 'bs_roformer'/'mel_band_roformer' in the name)."""
    if "num_subbands" in model or "num_scales" in model:
        return MDX23C
    if "freqs_per_bands" in model:
        return BS_ROFORMER
    if "num_bands" in model:
        return MEL_ROFORMER
    low = name.lower().replace("-", "_")
    if "bs_roformer" in low or "bsroformer" in low:
        return BS_ROFORMER
    if "mel_band" in low or "melband" in low or "roformer" in low:
        return MEL_ROFORMER  # upstream's fallback for a RoFormer without freqs_per_bands
    return None


def read_config(path: Path, ckpt_name: str = "") -> MdxcConfig:
    try:
        raw = _safe_yaml(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise StepError(f"Cannot read {path.name} ({exc.strerror})",
                        "Put the model's .yaml beside its .ckpt, with the same name.") from exc
    except Exception as exc:  # noqa: BLE001 - any YAML syntax/tag error
        raise StepError(f"{path.name} is not a YAML file we can read ({str(exc)[:120]})",
                        "Use the yaml published with the checkpoint.") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("model"), dict):
        raise StepError(f"{path.name} has no 'model' section, so it is not an MDX23C / "
                        "BS-RoFormer / Mel-Band-RoFormer config",
                        "Use the yaml published with the checkpoint (sections audio, model, "
                        "training, inference).")
    model = raw["model"]
    arch = guess_arch(model, f"{ckpt_name} {path.name}")
    if arch is None:
        raise StepError(f"{path.name} describes neither MDX23C (num_subbands), BS-RoFormer "
                        "(freqs_per_bands) nor Mel-Band-RoFormer (num_bands)",
                        "Use the yaml published with the checkpoint.")
    sections = {k: (raw.get(k) or {}) for k in ("audio", "training", "inference")}
    for key, sec in sections.items():
        if not isinstance(sec, dict):
            raise StepError(f"{path.name}: section {key} is not a mapping",
                            "Use the yaml published with the checkpoint.")
    audio_raw = {k: v for k, v in sections["audio"].items()
                 if k in {f.name for f in fields(AudioSettings)}}
    inf = dict(sections["inference"])
    if "chunk_size" in inf and "chunk_size" not in audio_raw:
        audio_raw["chunk_size"] = inf["chunk_size"]  # Kim's Mel-RoFormer yaml keeps it here
    if arch == MEL_ROFORMER and "sample_rate" not in audio_raw and "sample_rate" in model:
        audio_raw["sample_rate"] = model["sample_rate"]
    audio = _typed(AudioSettings, audio_raw, "audio", path)
    if arch == MDX23C:
        params = _typed(Mdx23cParams, model, "model", path)
        if not audio.dim_f or not audio.n_fft or not audio.hop_length:
            raise StepError(f"{path.name}: an MDX23C yaml needs audio.n_fft, hop_length and "
                            "dim_f", "Use the yaml published with the checkpoint.")
        if "chunk_size" not in audio_raw and audio.dim_t:
            audio = AudioSettings(**{**audio.__dict__,
                                     "chunk_size": audio.hop_length * (audio.dim_t - 1)})
    else:
        params = _typed(RoformerParams, model, "model", path, ignore=_IGNORED)
    training = _typed(TrainingSettings,
                      {k: v for k, v in sections["training"].items()
                       if k in ("instruments", "target_instrument")}, "training", path)
    inference = _typed(InferenceSettings,
                       {k: v for k, v in inf.items()
                        if k in ("num_overlap", "batch_size", "normalize")}, "inference", path)
    cfg = MdxcConfig(arch, audio, params, training, inference)
    _check(cfg, path)
    return cfg


def _check(cfg: MdxcConfig, path: Path) -> None:
    a, t = cfg.audio, cfg.training
    bad = None
    if a.chunk_size <= 0 or a.sample_rate <= 0:
        bad = "audio.chunk_size and sample_rate must be positive"
    elif not t.instruments:
        bad = "training.instruments is empty"
    elif t.target_instrument and t.target_instrument not in t.instruments:
        bad = f"training.target_instrument {t.target_instrument!r} is not in instruments"
    elif isinstance(cfg.model, RoformerParams):
        m = cfg.model
        if cfg.arch == BS_ROFORMER and sum(m.freqs_per_bands) != m.stft_n_fft // 2 + 1:
            bad = (f"model.freqs_per_bands sums to {sum(m.freqs_per_bands)}, not the "
                   f"{m.stft_n_fft // 2 + 1} bins of stft_n_fft {m.stft_n_fft}")
        elif m.num_stems != len(cfg.stems):
            bad = (f"model.num_stems {m.num_stems} but training names {len(cfg.stems)} "
                   "output(s)")
    elif a.dim_f % cfg.model.num_subbands:
        bad = "audio.dim_f is not a multiple of model.num_subbands"
    else:  # the U-Net halves time and frequency num_scales times and must come back even
        m = cfg.model
        frames = a.chunk_size // a.hop_length + 1
        if frames % m.scale[0] ** m.num_scales or \
                (a.dim_f // m.num_subbands) % m.scale[1] ** m.num_scales:
            bad = (f"audio.chunk_size {a.chunk_size} gives {frames} STFT frames and dim_f "
                   f"{a.dim_f} / {m.num_subbands} sub-bands; both must divide by the "
                   f"scale {tuple(m.scale)} {m.num_scales} times (chunk_size = hop_length × "
                   "(dim_t − 1))")
    if bad:
        raise StepError(f"{path.name}: {bad}", "Use the yaml published with the checkpoint.")
