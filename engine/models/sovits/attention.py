"""Transformer encoder with windowed relative-position attention (the text/SSL encoders of
SoVITS) and the plain multi-head attention MRTE uses. Post-LayerNorm, 1x1-conv projections,
conv feed-forward; parameter names follow upstream's state dict."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.sovits.layers import ChannelLayerNorm

MASK_FILL = -1e4  # upstream's fill value for masked scores (not -inf: fully padded rows stay finite)


class ConvAttention(nn.Module):
    """Multi-head attention over (B, C, T) with 1x1-conv Q/K/V/O. With ``window`` set, one
    relative-position table per key and value (shared by all heads) covers offsets -w..w."""

    def __init__(self, channels: int, out_channels: int, n_heads: int, p_dropout: float = 0.0,
                 window: int | None = None) -> None:
        super().__init__()
        assert channels % n_heads == 0
        self.n_heads = n_heads
        self.k_channels = channels // n_heads
        self.window = window
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, out_channels, 1)
        self.drop = nn.Dropout(p_dropout)
        if window is not None:
            std = self.k_channels ** -0.5
            self.emb_rel_k = nn.Parameter(torch.randn(1, 2 * window + 1, self.k_channels) * std)
            self.emb_rel_v = nn.Parameter(torch.randn(1, 2 * window + 1, self.k_channels) * std)
        for conv in (self.conv_q, self.conv_k, self.conv_v):
            nn.init.xavier_uniform_(conv.weight)

    def forward(self, x: torch.Tensor, c: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        b, _, t_q = x.shape
        t_k = c.shape[2]
        h, d = self.n_heads, self.k_channels
        q = self.conv_q(x).view(b, h, d, t_q).transpose(2, 3) / math.sqrt(d)
        k = self.conv_k(c).view(b, h, d, t_k).transpose(2, 3)
        v = self.conv_v(c).view(b, h, d, t_k).transpose(2, 3)
        scores = q @ k.transpose(-2, -1)  # (b, h, t_q, t_k)
        if self.window is not None:
            idx, band = self._offsets(t_q, x.device)
            rel = q @ self.emb_rel_k.transpose(-2, -1).unsqueeze(0)  # (b, h, t, 2w+1)
            scores = scores + rel.gather(-1, idx.expand(b, h, t_q, t_q)) * band.to(rel.dtype)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, MASK_FILL)
        p = self.drop(F.softmax(scores, dim=-1))
        out = p @ v
        if self.window is not None:
            # weight of each relative offset o for query i = p[i, i + o - w] (0 off the edge)
            ridx, rvalid = self._rel_index(t_q, x.device)
            rw = p.gather(-1, ridx.expand(b, h, t_q, ridx.shape[-1])) * rvalid.to(p.dtype)
            out = out + rw @ self.emb_rel_v.unsqueeze(0)
        out = out.transpose(2, 3).reshape(b, h * d, t_q)
        return self.conv_o(out)

    def _offsets(self, t: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.window
        pos = torch.arange(t, device=device)
        off = pos[None, :] - pos[:, None]  # key j minus query i
        band = (off.abs() <= w).to(torch.get_default_dtype())
        return (off + w).clamp(0, 2 * w)[None, None], band[None, None]

    def _rel_index(self, t: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.window
        pos = torch.arange(t, device=device)[:, None] + torch.arange(-w, w + 1, device=device)[None]
        valid = ((pos >= 0) & (pos < t)).to(torch.get_default_dtype())
        return pos.clamp(0, t - 1)[None, None], valid[None, None]


class ConvFFN(nn.Module):
    """Two 'same'-padded convolutions with ReLU, masked before each conv."""

    def __init__(self, channels: int, filter_channels: int, kernel_size: int,
                 p_dropout: float = 0.0) -> None:
        super().__init__()
        self.pad = ((kernel_size - 1) // 2, kernel_size // 2)
        self.conv_1 = nn.Conv1d(channels, filter_channels, kernel_size)
        self.conv_2 = nn.Conv1d(filter_channels, channels, kernel_size)
        self.drop = nn.Dropout(p_dropout)

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        x = self.conv_1(F.pad(x * x_mask, self.pad))
        x = self.drop(torch.relu(x))
        x = self.conv_2(F.pad(x * x_mask, self.pad))
        return x * x_mask


class RelEncoder(nn.Module):
    """Stack of post-LN blocks: relative self-attention then conv FFN, both residual."""

    def __init__(self, hidden: int, filter_channels: int, n_heads: int, n_layers: int,
                 kernel_size: int, p_dropout: float, window: int = 4) -> None:
        super().__init__()
        self.n_layers = n_layers
        self.drop = nn.Dropout(p_dropout)
        self.attn_layers = nn.ModuleList(
            ConvAttention(hidden, hidden, n_heads, p_dropout, window) for _ in range(n_layers))
        self.norm_layers_1 = nn.ModuleList(ChannelLayerNorm(hidden) for _ in range(n_layers))
        self.ffn_layers = nn.ModuleList(
            ConvFFN(hidden, filter_channels, kernel_size, p_dropout) for _ in range(n_layers))
        self.norm_layers_2 = nn.ModuleList(ChannelLayerNorm(hidden) for _ in range(n_layers))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        attn_mask = x_mask.unsqueeze(2) * x_mask.unsqueeze(-1)
        x = x * x_mask
        for i in range(self.n_layers):
            y = self.drop(self.attn_layers[i](x, x, attn_mask))
            x = self.norm_layers_1[i](x + y)
            y = self.drop(self.ffn_layers[i](x, x_mask))
            x = self.norm_layers_2[i](x + y)
        return x * x_mask
