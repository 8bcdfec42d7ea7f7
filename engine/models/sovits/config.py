"""The SoVITS model configuration: upstream's ``config["model"]`` block as a typed dataclass,
plus the few sizes upstream hard-codes (kept at upstream's values unless a test shrinks them).

v2Pro / v2ProPlus ("Pro") keep v2's phoneme table and 704-bin style input and add a speaker-
verification embedding (20480-d) of the reference; ``default_config(version)`` gives the
full-size model block of upstream's s2.json / s2v2Pro.json / s2v2ProPlus.json."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Sizes upstream's classes hard-code; a config that changes them cannot be read by upstream.
HARD_CODED = {"ssl_dim": 768, "codebook_size": 1024, "mrte_hidden": 512, "style_hidden": 128,
              "posterior_layers": 16, "flow_layers": 4, "sv_dim": 20480}
SYMBOLS_PER_VERSION = {"v1": 322, "v2": 732}
PRO_VERSIONS = ("v2Pro", "v2ProPlus")
MODEL_VERSIONS = ("v1", "v2", *PRO_VERSIONS)
SV_DIM = 20480  # ERes2NetV2 forward3: 2048 channels x 10 frequency rows, averaged over time


def is_pro(version: str) -> bool:
    return version in PRO_VERSIONS


def symbol_version(version: str) -> str:
    """Pro speaks v2's 732-symbol table (upstream treats every version but v1 as v2 there)."""
    return "v1" if version == "v1" else "v2"
SAMPLE_RATE = 32000
N_FFT = 2048
HOP = 640
WIN = 2048
N_MELS = 128


@dataclass
class SovitsConfig:
    version: str = "v2"  # one of MODEL_VERSIONS: phoneme table, style bins, Pro modules
    inter_channels: int = 192
    hidden_channels: int = 192
    filter_channels: int = 768
    n_heads: int = 2
    n_layers: int = 6
    kernel_size: int = 3
    p_dropout: float = 0.1
    resblock: str = "1"
    resblock_kernel_sizes: list[int] = field(default_factory=lambda: [3, 7, 11])
    resblock_dilation_sizes: list[list[int]] = field(
        default_factory=lambda: [[1, 3, 5], [1, 3, 5], [1, 3, 5]])
    upsample_rates: list[int] = field(default_factory=lambda: [10, 8, 2, 2, 2])
    upsample_initial_channel: int = 512
    upsample_kernel_sizes: list[int] = field(default_factory=lambda: [16, 16, 8, 2, 2])
    gin_channels: int = 512
    semantic_frame_rate: str = "25hz"
    freeze_quantizer: bool = True
    spec_channels: int = N_FFT // 2 + 1
    segment_frames: int = 32  # training slice: 20480 samples / hop 640
    ssl_dim: int = 768
    codebook_size: int = 1024
    mrte_hidden: int = 512
    style_hidden: int = 128
    posterior_layers: int = 16
    flow_layers: int = 4
    sv_dim: int = SV_DIM  # Pro only: the speaker embedding fed to sv_emb

    @property
    def is_pro(self) -> bool:
        return is_pro(self.version)

    @property
    def n_symbols(self) -> int:
        return SYMBOLS_PER_VERSION[symbol_version(self.version)]

    @property
    def style_bins(self) -> int:
        return self.spec_channels if self.version == "v1" else 704

    @property
    def upsample_factor(self) -> int:
        f = 1
        for r in self.upsample_rates:
            f *= r
        return f

    def check(self) -> None:
        if self.version not in MODEL_VERSIONS:
            raise ValueError(f"SoVITS version {self.version!r} is not supported "
                             f"({', '.join(MODEL_VERSIONS)})")
        if self.resblock != "1":
            raise ValueError("only resblock '1' is supported (every v1/v2 model uses it)")
        if self.upsample_factor != HOP:
            raise ValueError(f"upsample rates multiply to {self.upsample_factor}, need {HOP}")
        # v1/v2 add the style vector straight into MRTE; Pro maps it there with ge_to512.
        if not self.is_pro and self.mrte_hidden != self.gin_channels:
            raise ValueError("mrte_hidden must equal gin_channels (the style vector is added there)")

    def upstream_model_dict(self) -> dict[str, Any]:
        """The ``config["model"]`` block upstream's SynthesizerTrn(**model) accepts."""
        names = ["inter_channels", "hidden_channels", "filter_channels", "n_heads", "n_layers",
                 "kernel_size", "p_dropout", "resblock", "resblock_kernel_sizes",
                 "resblock_dilation_sizes", "upsample_rates", "upsample_initial_channel",
                 "upsample_kernel_sizes"]
        d: dict[str, Any] = {n: getattr(self, n) for n in names}
        d.update(n_layers_q=3, use_spectral_norm=False, gin_channels=self.gin_channels,
                 semantic_frame_rate=self.semantic_frame_rate,
                 freeze_quantizer=self.freeze_quantizer, version=self.version)
        for k, v in HARD_CODED.items():  # only when shrunk (such files are ours alone)
            if getattr(self, k) != v:
                d[k] = getattr(self, k)
        return d

    @classmethod
    def from_dict(cls, model: dict[str, Any], version: str | None = None) -> "SovitsConfig":
        """From an upstream (or our) model block; unknown keys are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in model.items() if k in names}
        if version is not None:
            kw["version"] = version
        kw = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}
        if "resblock_dilation_sizes" in kw:
            kw["resblock_dilation_sizes"] = [list(d) for d in kw["resblock_dilation_sizes"]]
        cfg = cls(**kw)
        if cfg.version not in MODEL_VERSIONS:
            cfg.version = "v2"
        return cfg

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# Upstream's per-version model-block deltas from s2.json (spec upstream-v2pro §2.1).
_VERSION_DELTAS: dict[str, dict[str, Any]] = {
    "v1": {}, "v2": {},
    "v2Pro": {"gin_channels": 1024, "p_dropout": 0.0},
    "v2ProPlus": {"gin_channels": 1024, "p_dropout": 0.0, "upsample_initial_channel": 768,
                  "upsample_kernel_sizes": [20, 16, 8, 2, 2]},
}


def default_config(version: str = "v2") -> SovitsConfig:
    """The full-size model upstream trains and ships for ``version``."""
    if version not in _VERSION_DELTAS:
        raise ValueError(f"SoVITS version {version!r} is not supported ({', '.join(MODEL_VERSIONS)})")
    return SovitsConfig(version=version, **_VERSION_DELTAS[version])


def tiny_config(version: str = "v2") -> SovitsConfig:
    """A few-hundred-k-parameter model for CPU tests (not upstream-loadable). Pro keeps the
    real 20480-d speaker input (so real 7-sv_cn files fit) and a gin wider than MRTE, so
    ge_to512 is a real projection; ProPlus keeps its kernel-20 first upsampler."""
    cfg = SovitsConfig(version=version, inter_channels=8, hidden_channels=32,
                       filter_channels=64, n_heads=2, n_layers=2, p_dropout=0.0,
                       resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
                       upsample_initial_channel=32, gin_channels=32, mrte_hidden=32,
                       style_hidden=32, posterior_layers=2, flow_layers=2, segment_frames=16)
    if is_pro(version):
        cfg.gin_channels = 48
    if version == "v2ProPlus":
        cfg.upsample_initial_channel = 48
        cfg.upsample_kernel_sizes = [20, 16, 8, 2, 2]
    return cfg
