"""HiFi-GAN generator (the decoder ``dec``): latent frames -> 32 kHz waveform."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.sovits.layers import (LRELU_SLOPE, WNConv1d, WNConvTranspose1d,
                                         same_padding)


class ResBlock(nn.Module):
    """Three (dilated conv, conv) residual pairs with leaky ReLU before each conv."""

    def __init__(self, channels: int, kernel: int, dilations: list[int]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            WNConv1d(channels, channels, kernel, dilation=d, padding=same_padding(kernel, d))
            for d in dilations)
        self.convs2 = nn.ModuleList(
            WNConv1d(channels, channels, kernel, padding=same_padding(kernel))
            for _ in dilations)
        for c in [*self.convs1, *self.convs2]:
            nn.init.normal_(c.weight_v, 0.0, 0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = c1(F.leaky_relu(x, LRELU_SLOPE))
            xt = c2(F.leaky_relu(xt, LRELU_SLOPE))
            x = x + xt
        return x


class Generator(nn.Module):
    def __init__(self, in_channels: int, resblock_kernel_sizes: list[int],
                 resblock_dilation_sizes: list[list[int]], upsample_rates: list[int],
                 upsample_initial_channel: int, upsample_kernel_sizes: list[int],
                 gin_channels: int = 0) -> None:
        super().__init__()
        self.num_kernels = len(resblock_kernel_sizes)
        self.upsample_factor = 1
        for u in upsample_rates:
            self.upsample_factor *= u
        self.conv_pre = nn.Conv1d(in_channels, upsample_initial_channel, 7, padding=3)
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes)):
            up = WNConvTranspose1d(upsample_initial_channel // 2 ** i,
                                   upsample_initial_channel // 2 ** (i + 1), k, u,
                                   padding=(k - u) // 2)
            nn.init.normal_(up.weight_v, 0.0, 0.01)
            self.ups.append(up)
        self.resblocks = nn.ModuleList()
        ch = upsample_initial_channel
        for i in range(len(self.ups)):
            ch = upsample_initial_channel // 2 ** (i + 1)
            for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes):
                self.resblocks.append(ResBlock(ch, k, list(d)))
        self.conv_post = nn.Conv1d(ch, 1, 7, padding=3, bias=False)
        self.cond = nn.Conv1d(gin_channels, upsample_initial_channel, 1) if gin_channels else None

    def forward(self, x: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        x = self.conv_pre(x)
        if g is not None and self.cond is not None:
            x = x + self.cond(g)
        n = self.num_kernels
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            xs = self.resblocks[i * n](x)
            for j in range(1, n):
                xs = xs + self.resblocks[i * n + j](x)
            x = xs / n
        x = self.conv_post(F.leaky_relu(x))  # default slope 0.01 here, as upstream
        return torch.tanh(x)

    def forward_chunked(self, z: torch.Tensor, g: torch.Tensor | None, core: int = 400,
                        context: int = 16) -> torch.Tensor:
        """The same waveform computed over windows of ``core`` frames with ``context``
        frames each side (the receptive field is about 8 frames). Windows come in only two
        sizes whatever the length, so oneDNN's per-shape kernels (costly to build in bf16)
        are reused across calls; the first and last windows stop at the real sequence ends,
        where the full pass zero-pads inside every layer."""
        t = z.shape[-1]
        up = self.upsample_factor
        if t < core + 2 * context:
            return self(z, g)
        outs = []
        a = 0
        while a < t:
            if a == 0:
                lo, hi = 0, core + context
            elif a + core + context <= t:
                lo, hi = a - context, a + core + context
            else:
                lo, hi = t - core - 2 * context, t
            b = min(a + core, t)
            y = self(z[:, :, lo:hi], g)
            outs.append(y[:, :, (a - lo) * up:(b - lo) * up])
            a = b
        return torch.cat(outs, dim=-1)
