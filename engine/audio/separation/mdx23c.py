"""MDX23C: the TFC-TDF-net v3 (Kim's MDX23 challenge model as ZFTurbo/UVR ship it).

Mixture → STFT (n_fft, hop_length, periodic Hann, centred) cut to ``dim_f`` bins, channels
[L.re, L.im, R.re, R.im]; the bins are folded into ``num_subbands`` extra channels; a U-Net
of TFC-TDF blocks (3×3 convs across time/frequency plus a bottlenecked linear layer across
frequency) with strided down/up-scaling; the result, multiplied by the first conv's output,
goes through a final 1×1 conv with the mixture beside it and back out as complex STFT per
instrument. Module names follow the published state dicts (``first_conv``,
``encoder_blocks.<i>.tfc_tdf.blocks.<j>.{tfc1,tdf,tfc2,shortcut}``, ``.downscale.conv.2``,
``bottleneck_block``, ``decoder_blocks.<i>.upscale``, ``final_conv.{0,2}``).
"""
from __future__ import annotations

import torch
from torch import nn

from engine.audio.separation.mdxc_config import AudioSettings, Mdx23cParams


def _norm(kind: str, c: int) -> nn.Module:
    if kind == "BatchNorm":
        return nn.BatchNorm2d(c)
    if kind == "InstanceNorm":
        return nn.InstanceNorm2d(c, affine=True)
    if kind.startswith("GroupNorm"):
        return nn.GroupNorm(int(kind[len("GroupNorm"):]), c)
    return nn.Identity()


def _act(kind: str) -> nn.Module:
    if kind == "gelu":
        return nn.GELU()
    if kind == "relu":
        return nn.ReLU()
    if kind.startswith("elu"):
        return nn.ELU(float(kind[3:]))
    raise ValueError(f"unknown activation {kind!r}")


class TfcTdf(nn.Module):
    def __init__(self, in_c: int, c: int, n: int, f: int, bn: int, p: Mdx23cParams) -> None:
        super().__init__()
        self.blocks = nn.ModuleList()
        for _ in range(n):
            block = nn.Module()
            block.tfc1 = nn.Sequential(_norm(p.norm, in_c), _act(p.act),
                                       nn.Conv2d(in_c, c, 3, 1, 1, bias=False))
            block.tdf = nn.Sequential(_norm(p.norm, c), _act(p.act),
                                      nn.Linear(f, f // bn, bias=False),
                                      _norm(p.norm, c), _act(p.act),
                                      nn.Linear(f // bn, f, bias=False))
            block.tfc2 = nn.Sequential(_norm(p.norm, c), _act(p.act),
                                       nn.Conv2d(c, c, 3, 1, 1, bias=False))
            block.shortcut = nn.Conv2d(in_c, c, 1, 1, 0, bias=False)
            self.blocks.append(block)
            in_c = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.blocks:
            s = blk.shortcut(x)
            x = blk.tfc1(x)
            x = x + blk.tdf(x)
            x = blk.tfc2(x) + s
        return x


class _Scale(nn.Module):
    def __init__(self, in_c: int, out_c: int, scale: tuple[int, int], p: Mdx23cParams,
                 up: bool) -> None:
        super().__init__()
        conv = nn.ConvTranspose2d if up else nn.Conv2d
        self.conv = nn.Sequential(_norm(p.norm, in_c), _act(p.act),
                                  conv(in_c, out_c, scale, scale, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class TfcTdfNet(nn.Module):
    def __init__(self, audio: AudioSettings, p: Mdx23cParams, n_outputs: int) -> None:
        super().__init__()
        self.audio, self.p, self.n_outputs = audio, p, n_outputs
        self.dim_c = dim_c = p.num_subbands * audio.num_channels * 2
        c, g, scale = p.num_channels, p.growth, tuple(p.scale)
        n, bn = p.num_blocks_per_scale, p.bottleneck_factor
        f = audio.dim_f // p.num_subbands
        self.first_conv = nn.Conv2d(dim_c, c, 1, 1, 0, bias=False)
        self.encoder_blocks = nn.ModuleList()
        for _ in range(p.num_scales):
            blk = nn.Module()
            blk.tfc_tdf = TfcTdf(c, c, n, f, bn, p)
            blk.downscale = _Scale(c, c + g, scale, p, up=False)
            f, c = f // scale[1], c + g
            self.encoder_blocks.append(blk)
        self.bottleneck_block = TfcTdf(c, c, n, f, bn, p)
        self.decoder_blocks = nn.ModuleList()
        for _ in range(p.num_scales):
            blk = nn.Module()
            blk.upscale = _Scale(c, c - g, scale, p, up=True)
            f, c = f * scale[1], c - g
            blk.tfc_tdf = TfcTdf(2 * c, c, n, f, bn, p)
            self.decoder_blocks.append(blk)
        self.final_conv = nn.Sequential(nn.Conv2d(c + dim_c, c, 1, 1, 0, bias=False),
                                        _act(p.act),
                                        nn.Conv2d(c, n_outputs * dim_c, 1, 1, 0, bias=False))
        window = torch.hann_window(audio.n_fft, device="cpu")
        self.register_buffer("window", window, persistent=False)

    def _stft(self, audio: torch.Tensor) -> torch.Tensor:
        """(b, ch, L) → (b, ch·2, dim_f, T) real: [ch0.re, ch0.im, ch1.re, ...]."""
        a = self.audio
        b, ch, n = audio.shape
        spec = torch.stft(audio.reshape(b * ch, n), a.n_fft, a.hop_length,
                          window=self.window, center=True, return_complex=True)
        spec = torch.view_as_real(spec).permute(0, 3, 1, 2)  # (b·ch, 2, F, T)
        return spec.reshape(b, ch * 2, spec.shape[-2], spec.shape[-1])[:, :, :a.dim_f]

    def _istft(self, x: torch.Tensor, length: int) -> torch.Tensor:
        """(b, n, ch·2, dim_f, T) → (b, n, ch, length); bins above dim_f are zero."""
        a = self.audio
        b, n, c2, f, t = x.shape
        full = torch.zeros(b, n, c2, a.n_fft // 2 + 1, t, dtype=x.dtype, device=x.device)
        full[..., :f, :] = x
        full = full.view(-1, 2, a.n_fft // 2 + 1, t)
        spec = torch.complex(full[:, 0], full[:, 1])
        out = torch.istft(spec, a.n_fft, a.hop_length, window=self.window, center=True,
                          length=length)
        return out.view(b, n, c2 // 2, length)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """(b, ch, L) → (b, outputs, ch, L)."""
        k = self.p.num_subbands
        spec = self._stft(audio)
        b, c, f, t = spec.shape
        mix = x = spec.reshape(b, c * k, f // k, t)  # bins folded into sub-band channels
        first = x = self.first_conv(x)
        x = x.transpose(-1, -2)  # (b, c, T, f): the TDF linears act on frequency
        skips = []
        for blk in self.encoder_blocks:
            x = blk.tfc_tdf(x)
            skips.append(x)
            x = blk.downscale(x)
        x = self.bottleneck_block(x)
        for blk in self.decoder_blocks:
            x = blk.tfc_tdf(torch.cat([blk.upscale(x), skips.pop()], 1))
        x = x.transpose(-1, -2) * first
        x = self.final_conv(torch.cat([mix, x], 1))
        x = x.reshape(b, x.shape[1] // k, f, t)  # sub-bands back to bins
        x = x.reshape(b, self.n_outputs, -1, f, t)
        return self._istft(x, audio.shape[-1])
