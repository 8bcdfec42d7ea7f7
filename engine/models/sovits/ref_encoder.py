"""Reference (style) encoder: a linear spectrogram -> one global style vector ``ge``."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class _Linear(nn.Module):
    """nn.Linear under the attribute ``fc`` (upstream's key names)."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.fc = nn.Linear(d_in, d_out)
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class _Conv(nn.Module):
    def __init__(self, d_in: int, d_out: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(d_in, d_out, kernel, padding=(kernel - 1) // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class _Mish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.tanh(F.softplus(x))


class _GLUBlock(nn.Module):
    """Residual gated conv: x + dropout(a * sigmoid(b)), (a, b) = conv(x)."""

    def __init__(self, channels: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.channels = channels
        self.conv1 = _Conv(channels, 2 * channels, kernel)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = torch.split(self.conv1(x), self.channels, dim=1)
        return x + self.dropout(a * torch.sigmoid(b))


class _SelfAttention(nn.Module):
    """Residual multi-head self-attention over (B, T, D). Scores are scaled by sqrt(d_model),
    not sqrt(d_head): that is what the upstream weights were trained with."""

    def __init__(self, n_heads: int, d_model: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.scale = math.sqrt(d_model)
        self.w_qs = nn.Linear(d_model, d_model)
        self.w_ks = nn.Linear(d_model, d_model)
        self.w_vs = nn.Linear(d_model, d_model)
        self.fc = nn.Linear(d_model, d_model)
        self.attn_drop = nn.Dropout(dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, pad: torch.Tensor | None) -> torch.Tensor:
        b, t, _ = x.shape
        h, d = self.n_heads, self.d_head
        q = self.w_qs(x).view(b, t, h, d).transpose(1, 2)
        k = self.w_ks(x).view(b, t, h, d).transpose(1, 2)
        v = self.w_vs(x).view(b, t, h, d).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / self.scale
        if pad is not None:  # pad: (B, T) True on padding keys
            scores = scores.masked_fill(pad[:, None, None, :], float("-inf"))
        out = self.attn_drop(F.softmax(scores, dim=-1)) @ v
        out = out.transpose(1, 2).reshape(b, t, h * d)
        return self.dropout(self.fc(out)) + x


class StyleEncoder(nn.Module):
    """Frame-wise MLP (Mish) -> 2 gated convs -> self-attention -> linear -> masked mean."""

    def __init__(self, in_bins: int = 704, out_dim: int = 512, hidden: int = 128,
                 kernel: int = 5, n_heads: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.in_bins = in_bins
        self.spectral = nn.Sequential(
            _Linear(in_bins, hidden), _Mish(), nn.Dropout(dropout),
            _Linear(hidden, hidden), _Mish(), nn.Dropout(dropout))
        self.temporal = nn.Sequential(_GLUBlock(hidden, kernel, dropout),
                                      _GLUBlock(hidden, kernel, dropout))
        self.slf_attn = _SelfAttention(n_heads, hidden, dropout)
        self.fc = _Linear(hidden, out_dim)

    def forward(self, spec: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """spec: (B, bins, T) (only the first ``in_bins`` are used); mask: (B, 1, T).
        Returns ge (B, out_dim, 1)."""
        x = spec[:, : self.in_bins]
        if mask is not None:
            x = x * mask
        x = self.spectral(x.transpose(1, 2))
        x = self.temporal(x.transpose(1, 2)).transpose(1, 2)
        pad = None
        if mask is not None:
            pad = mask.squeeze(1) == 0
            x = x.masked_fill(pad.unsqueeze(-1), 0)
        x = self.fc(self.slf_attn(x, pad))
        if pad is None:
            w = x.mean(dim=1)
        else:
            x = x.masked_fill(pad.unsqueeze(-1), 0)
            w = x.sum(dim=1) / (~pad).sum(dim=1, keepdim=True)
        return w.unsqueeze(-1)
