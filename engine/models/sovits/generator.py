"""HiFi-GAN generator (the decoder ``dec``): latent frames -> 32 kHz waveform."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.sovits.layers import (LRELU_SLOPE, CastConv1d, WNConv1d,
                                         WNConvTranspose1d, cast_for_inference, same_padding)


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
        self.bf16_stages = 0
        self.upsample_factor = 1
        for u in upsample_rates:
            self.upsample_factor *= u
        self.conv_pre = CastConv1d(in_channels, upsample_initial_channel, 7, padding=3)
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
        self.cond = CastConv1d(gin_channels, upsample_initial_channel, 1) if gin_channels else None

    def to_bf16_stages(self, stages: int) -> None:
        """Run conv_pre/cond and the first ``stages`` upsampling stages in bfloat16 (inference
        only, after folding weight norms). Those stages hold most of the FLOPs and gain the
        most from AMX; the thin last stages are faster, and more exact, in fp32."""
        cast_for_inference(self, None)
        parts = [self.conv_pre, self.cond, *self.ups[:stages],
                 *self.resblocks[: stages * self.num_kernels]]
        for m in parts:
            if m is not None:
                cast_for_inference(m, torch.bfloat16)
        self.bf16_stages = stages

    def forward(self, x: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        dt = torch.bfloat16 if (self.bf16_stages and not self.training) else x.dtype
        x = self.conv_pre(x.to(dt))
        if g is not None and self.cond is not None:
            x = x + self.cond(g.to(dt))
        n = self.num_kernels
        for i, up in enumerate(self.ups):
            if i == self.bf16_stages:
                x = x.float()
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            xs = self.resblocks[i * n](x)
            for j in range(1, n):
                xs = xs + self.resblocks[i * n + j](x)
            x = xs / n
        x = self.conv_post(F.leaky_relu(x.float()))  # default slope 0.01 here, as upstream
        return torch.tanh(x)

    def forward_chunked(self, z: torch.Tensor, g: torch.Tensor | None, core: int = 400,
                        context: int = 16) -> torch.Tensor:
        """The same waveform computed over windows of ``core`` frames with ``context``
        frames each side (the receptive field is about 8 frames): bounded memory for long
        inputs and a basis for streaming. Windows come in only two sizes whatever the length
        (oneDNN builds kernels per shape); the first and last windows stop at the real
        sequence ends, where the full pass zero-pads inside every layer."""
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
