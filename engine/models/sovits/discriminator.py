"""Multi-period + single-scale discriminator used in GAN fine-tuning. ``width`` divides every
channel count (and group count) so tests can build a tiny one; width 1 is upstream's size."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.sovits.layers import LRELU_SLOPE, WNConv1d, WNConv2d, same_padding

PERIODS_V2 = (2, 3, 5, 7, 11)
PERIODS_PRO = (2, 3, 5, 7, 11, 17, 23)  # v2Pro and v2ProPlus share one discriminator


def periods_for(version: str) -> tuple[int, ...]:
    """Upstream's period list for a model version (s2Dv2Pro*.pth has 8 sub-discriminators)."""
    from engine.models.sovits.config import is_pro

    return PERIODS_PRO if is_pro(version) else PERIODS_V2


def _c(n: int, width: int) -> int:
    return max(1, n // width)


class PeriodDiscriminator(nn.Module):
    def __init__(self, period: int, width: int = 1, kernel: int = 5, stride: int = 3) -> None:
        super().__init__()
        self.period = period
        chans = [1] + [_c(c, width) for c in (32, 128, 512, 1024, 1024)]
        pad = (same_padding(kernel), 0)
        self.convs = nn.ModuleList(
            WNConv2d(chans[i], chans[i + 1], (kernel, 1), (stride if i < 4 else 1, 1), padding=pad)
            for i in range(5))
        self.conv_post = WNConv2d(chans[-1], 1, (3, 1), 1, padding=(1, 0))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        fmap = []
        b, c, t = x.shape
        if t % self.period:
            x = F.pad(x, (0, self.period - t % self.period), "reflect")
            t = x.shape[-1]
        x = x.view(b, c, t // self.period, self.period)
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class ScaleDiscriminator(nn.Module):
    def __init__(self, width: int = 1) -> None:
        super().__init__()
        spec = [(1, 16, 15, 1, 1, 7), (16, 64, 41, 4, 4, 20), (64, 256, 41, 4, 16, 20),
                (256, 1024, 41, 4, 64, 20), (1024, 1024, 41, 4, 256, 20),
                (1024, 1024, 5, 1, 1, 2)]
        convs = []
        for cin, cout, k, s, groups, pad in spec:
            cin_w, cout_w = (1 if cin == 1 else _c(cin, width)), _c(cout, width)
            g = max(1, groups // width)
            while cin_w % g or cout_w % g:
                g //= 2
            convs.append(WNConv1d(cin_w, cout_w, k, s, groups=g, padding=pad))
        self.convs = nn.ModuleList(convs)
        self.conv_post = WNConv1d(_c(1024, width), 1, 3, 1, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        fmap = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class MultiPeriodDiscriminator(nn.Module):
    def __init__(self, periods: tuple[int, ...] = PERIODS_V2, width: int = 1) -> None:
        super().__init__()
        self.discriminators = nn.ModuleList(
            [ScaleDiscriminator(width)] + [PeriodDiscriminator(p, width) for p in periods])

    def forward(self, y: torch.Tensor, y_hat: torch.Tensor):
        """Scores and feature maps for real ``y`` and generated ``y_hat`` (B, 1, T)."""
        r_out, g_out, r_maps, g_maps = [], [], [], []
        for d in self.discriminators:
            r, rm = d(y)
            g, gm = d(y_hat)
            r_out.append(r)
            g_out.append(g)
            r_maps.append(rm)
            g_maps.append(gm)
        return r_out, g_out, r_maps, g_maps
