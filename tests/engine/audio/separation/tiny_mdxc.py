"""Tiny random MDXC-family models written in the real file format: a ``.yaml`` laid out as
the published configs (``!!python/tuple`` tags included) and a ``.ckpt`` that is a bare
state dict saved with torch.save, as ZFTurbo's training writes them."""
from __future__ import annotations

from pathlib import Path

import pytest

SR = 8000


@pytest.fixture
def one_thread():
    """Tiny models on a shared 2-core box: one intra-op thread is ~100x faster than two
    (thread hand-offs dominate a 16-wide matmul)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

BS_YAML = """\
audio:
  chunk_size: {chunk}
  num_channels: 2
  sample_rate: {sr}
  min_mean_abs: 0.0
model:
  dim: 16
  depth: 1
  stereo: {stereo}
  num_stems: {stems}
  time_transformer_depth: 1
  freq_transformer_depth: 1
  linear_transformer_depth: 0
  freqs_per_bands: !!python/tuple
  - 8
  - 8
  - 16
  - 33
  dim_head: 8
  heads: 2
  attn_dropout: 0.1
  ff_dropout: 0.1
  flash_attn: true
  dim_freqs_in: 65
  stft_n_fft: 128
  stft_hop_length: 32
  stft_win_length: 128
  stft_normalized: false
  mask_estimator_depth: 2
  multi_stft_resolution_loss_weight: 1.0
  multi_stft_resolutions_window_sizes: !!python/tuple
  - 256
  - 128
  multi_stft_hop_size: 32
  multi_stft_normalized: false
training:
  instruments:
  - vocals
  - other
  target_instrument: {target}
inference:
  batch_size: {batch}
  num_overlap: {overlap}
"""

# Kim's Mel-Band-RoFormer layout: no audio section, chunk_size under inference
MEL_YAML = """\
model:
  dim: 16
  depth: 1
  stereo: {stereo}
  num_stems: {stems}
  time_transformer_depth: 1
  freq_transformer_depth: 1
  num_bands: 6
  dim_head: 8
  heads: 2
  attn_dropout: 0
  ff_dropout: 0
  flash_attn: True
  dim_freqs_in: 65
  sample_rate: {sr}
  stft_n_fft: 128
  stft_hop_length: 32
  stft_win_length: 128
  stft_normalized: False
  mask_estimator_depth: 2
  multi_stft_resolutions_window_sizes: !!python/tuple
  - 256
  - 128
training:
  instruments:
  - vocals
  - other
  target_instrument: {target}
inference:
  num_overlap: {overlap}
  chunk_size: {chunk}
  batch_size: {batch}
"""

MDX23C_YAML = """\
audio:
  chunk_size: {chunk}
  dim_f: 64
  dim_t: 64
  hop_length: 32
  n_fft: 256
  num_channels: 2
  sample_rate: {sr}
  min_mean_abs: 0.001
model:
  act: gelu
  bottleneck_factor: 4
  growth: 4
  norm: {norm}
  num_blocks_per_scale: 1
  num_channels: 8
  num_scales: 2
  num_subbands: 2
  scale:
  - 2
  - 2
training:
  instruments:
  - vocals
  - other
  target_instrument: {target}
inference:
  batch_size: {batch}
  dim_t: 64
  num_overlap: {overlap}
"""

YAMLS = {"bs_roformer": BS_YAML, "mel_band_roformer": MEL_YAML, "mdx23c": MDX23C_YAML}


def write_yaml(path: Path, arch: str, *, chunk: int | None = None, overlap: int = 2, batch: int = 2,
               stereo: bool = True, stems: int = 1, target: str = "vocals",
               norm: str = "InstanceNorm", sr: int = SR) -> Path:
    if chunk is None:  # MDX23C: hop × (dim_t − 1), dim_t a multiple of 2^num_scales
        chunk = 32 * 63 if arch == "mdx23c" else 2048
    path.write_text(YAMLS[arch].format(chunk=chunk, overlap=overlap, batch=batch,
                                       stereo=str(stereo).lower(), stems=stems,
                                       target=target or "null", norm=norm, sr=sr),
                    encoding="utf-8")
    return path


def build_model(yaml: Path, seed: int = 0):
    """A random model of the architecture the yaml describes (our classes)."""
    import torch

    from engine.audio.separation.mdx23c import TfcTdfNet
    from engine.audio.separation.mdxc_config import MDX23C, read_config
    from engine.audio.separation.roformer import build

    cfg = read_config(yaml)
    torch.manual_seed(seed)
    if cfg.arch == MDX23C:
        return TfcTdfNet(cfg.audio, cfg.model, len(cfg.stems))
    return build(cfg.arch, cfg.model)


def make_pair(folder: Path, arch: str, name: str | None = None, seed: int = 0, model=None,
              **yaml_kw) -> tuple[Path, Path]:
    """``<name>.ckpt`` + ``<name>.yaml`` in ``folder``; returns (ckpt, yaml)."""
    import torch

    name = name or f"tiny_{arch}"
    yaml = write_yaml(folder / f"{name}.yaml", arch, **yaml_kw)
    model = model if model is not None else build_model(yaml, seed)
    ckpt = folder / f"{name}.ckpt"
    torch.save(model.state_dict(), ckpt)
    return ckpt, yaml


def make_identity(model) -> None:
    """Set a RoFormer's mask estimators to a mask of exactly 1+0j (last layer: zero weights,
    bias 1 on real parts, 0 on imaginary parts, a saturated GLU gate), so the network gives
    back its input: what remains is our STFT round trip and the chunking."""
    import torch

    with torch.no_grad():
        for est in model.mask_estimators:
            for seq in est.to_freqs:
                last = seq[0][-1]
                half = last.out_features // 2
                last.weight.zero_()
                value = torch.zeros(half)
                value[0::2] = 1.0  # (freq, channel, re/im) interleaved: re at even places
                last.bias.copy_(torch.cat([value, torch.full((half,), 40.0)]))
