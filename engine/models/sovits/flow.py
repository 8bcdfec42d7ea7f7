"""Posterior encoder (training only) and the mean-only affine coupling flow."""
from __future__ import annotations

import torch
from torch import nn

from engine.models.sovits.layers import WaveNet, sequence_mask


class PosteriorEncoder(nn.Module):
    """Linear spectrogram -> z ~ N(m, exp(logs)), conditioned on the (detached) style."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int, kernel_size: int,
                 dilation_rate: int, n_layers: int, gin_channels: int = 0) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.pre = nn.Conv1d(in_channels, hidden, 1)
        self.enc = WaveNet(hidden, kernel_size, dilation_rate, n_layers, gin_channels)
        self.proj = nn.Conv1d(hidden, out_channels * 2, 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, g: torch.Tensor | None = None):
        if g is not None:
            g = g.detach()
        mask = sequence_mask(lengths, x.size(2)).unsqueeze(1).to(x.dtype)
        h = self.enc(self.pre(x) * mask, mask, g=g)
        stats = self.proj(h) * mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        z = (m + torch.randn_like(m) * torch.exp(logs)) * mask
        return z, m, logs, mask


class CouplingLayer(nn.Module):
    """Mean-only coupling: the second half is shifted by a WaveNet of the first half."""

    def __init__(self, channels: int, hidden: int, kernel_size: int, dilation_rate: int,
                 n_layers: int, gin_channels: int = 0) -> None:
        super().__init__()
        self.half = channels // 2
        self.pre = nn.Conv1d(self.half, hidden, 1)
        self.enc = WaveNet(hidden, kernel_size, dilation_rate, n_layers, gin_channels)
        self.post = nn.Conv1d(hidden, self.half, 1)
        nn.init.zeros_(self.post.weight)  # starts as the identity
        nn.init.zeros_(self.post.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None,
                reverse: bool = False) -> torch.Tensor:
        x0, x1 = torch.split(x, [self.half, self.half], dim=1)
        h = self.enc(self.pre(x0) * mask, mask, g=g)
        m = self.post(h) * mask
        x1 = (x1 - m) * mask if reverse else m + x1 * mask
        return torch.cat([x0, x1], dim=1)


class Flip(nn.Module):
    def forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        return torch.flip(x, [1])


class CouplingFlow(nn.Module):
    """n_flows x (coupling, flip); the flips sit at the odd indices of ``flows``."""

    def __init__(self, channels: int, hidden: int, kernel_size: int, dilation_rate: int,
                 n_layers: int, n_flows: int = 4, gin_channels: int = 0) -> None:
        super().__init__()
        self.flows = nn.ModuleList()
        for _ in range(n_flows):
            self.flows.append(CouplingLayer(channels, hidden, kernel_size, dilation_rate,
                                            n_layers, gin_channels))
            self.flows.append(Flip())

    def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None,
                reverse: bool = False) -> torch.Tensor:
        flows = reversed(self.flows) if reverse else self.flows
        for f in flows:
            x = f(x, mask, g=g, reverse=reverse)
        return x
