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
        # Training only: recompute each upsampling stage in the backward pass instead of
        # keeping its activations (the late, long stages hold most of a step's memory).
        self.grad_checkpoint = False
        # Windowed inference from this stage on (see forward); sizes in that stage's input
        # samples. The receptive field from stage 1 on is about +-16 samples there.
        self.window_stage, self.window, self.halo = 1, 768, 32
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

    def forward(self, x: torch.Tensor, g: torch.Tensor | None = None,
                windowed: bool | None = None) -> torch.Tensor:
        """Latent (B, C, T) -> waveform (B, 1, T * 640). In eval mode the stages after
        ``window_stage`` run over windows of ``window`` samples with ``halo`` samples of
        context (more than their receptive field), so the thin, long late stages work in
        cache: same numbers (tested exact), ~1.4x faster on CPU. Windows stop at the real
        sequence ends, where the full pass zero-pads inside every layer."""
        if windowed is None:
            windowed = not self.training
        dt = torch.bfloat16 if (self.bf16_stages and not self.training) else x.dtype
        x = self.conv_pre(x.to(dt))
        if g is not None and self.cond is not None:
            x = x + self.cond(g.to(dt))
        split = self.window_stage if windowed else len(self.ups)
        x = self._stages(x, 0, split)
        if split >= len(self.ups):
            return self._finish(x)
        length, w, h = x.shape[-1], self.window, self.halo
        if length <= w + 2 * h:
            return self._finish(self._stages(x, split, len(self.ups)))
        f = 1
        for up in self.ups[split:]:
            f *= up.stride[0]
        outs = []
        for a in range(0, length, w):
            b = min(a + w, length)
            lo, hi = max(0, a - h), min(length, b + h)
            y = self._finish(self._stages(x[:, :, lo:hi], split, len(self.ups)))
            outs.append(y[:, :, (a - lo) * f:(b - lo) * f])
        return torch.cat(outs, dim=-1)

    def _stages(self, x: torch.Tensor, first: int, last: int) -> torch.Tensor:
        recompute = self.grad_checkpoint and self.training and torch.is_grad_enabled()
        for i in range(first, last):
            if i == self.bf16_stages:
                x = x.float()
            if recompute:
                from torch.utils.checkpoint import checkpoint

                x = checkpoint(self._stage, x, i, use_reentrant=False)
            else:
                x = self._stage(x, i)
        return x

    def _stage(self, x: torch.Tensor, i: int) -> torch.Tensor:
        n = self.num_kernels
        x = self.ups[i](F.leaky_relu(x, LRELU_SLOPE))
        xs = self.resblocks[i * n](x)
        for j in range(1, n):
            xs = xs + self.resblocks[i * n + j](x)
        return xs / n

    def _finish(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_post(F.leaky_relu(x.float()))  # default slope 0.01 here, as upstream
        return torch.tanh(x)
