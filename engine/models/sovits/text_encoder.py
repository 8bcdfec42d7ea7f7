"""The prior text encoder ``enc_p``: SSL-content encoder, phoneme encoder, MRTE fusion
(cross-attention from content to phonemes, plus the global style vector), a second encoder
and the projection to the prior's mean and log-std."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.sovits.attention import ConvAttention, RelEncoder
from engine.models.sovits.layers import sequence_mask


class MRTE(nn.Module):
    """Multi-reference timbre encoder: content queries attend over phonemes; the result,
    the content itself and the style vector ``ge`` are summed at ``hidden`` width."""

    def __init__(self, content_channels: int = 192, hidden: int = 512, out_channels: int = 192,
                 n_heads: int = 4) -> None:
        super().__init__()
        self.cross_attention = ConvAttention(hidden, hidden, n_heads)
        self.c_pre = nn.Conv1d(content_channels, hidden, 1)
        self.text_pre = nn.Conv1d(content_channels, hidden, 1)
        self.c_post = nn.Conv1d(hidden, out_channels, 1)

    def forward(self, content: torch.Tensor, content_mask: torch.Tensor, text: torch.Tensor,
                text_mask: torch.Tensor, ge: torch.Tensor | None) -> torch.Tensor:
        attn_mask = text_mask.unsqueeze(2) * content_mask.unsqueeze(-1)
        c = self.c_pre(content * content_mask)
        t = self.text_pre(text * text_mask)
        x = self.cross_attention(c * content_mask, t * text_mask, attn_mask) + c
        if ge is not None:
            x = x + ge
        return self.c_post(x * content_mask)


class TextEncoder(nn.Module):
    def __init__(self, out_channels: int, hidden: int, filter_channels: int, n_heads: int,
                 n_layers: int, kernel_size: int, p_dropout: float, n_symbols: int,
                 ssl_dim: int = 768, mrte_hidden: int = 512) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.ssl_proj = nn.Conv1d(ssl_dim, hidden, 1)
        self.encoder_ssl = RelEncoder(hidden, filter_channels, n_heads, n_layers // 2,
                                      kernel_size, p_dropout)
        self.encoder_text = RelEncoder(hidden, filter_channels, n_heads, n_layers,
                                       kernel_size, p_dropout)
        self.text_embedding = nn.Embedding(n_symbols, hidden)
        self.mrte = MRTE(hidden, mrte_hidden, hidden)
        self.encoder2 = RelEncoder(hidden, filter_channels, n_heads, n_layers // 2,
                                   kernel_size, p_dropout)
        self.proj = nn.Conv1d(hidden, out_channels * 2, 1)

    def forward(self, y: torch.Tensor, y_lengths: torch.Tensor, text: torch.Tensor,
                text_lengths: torch.Tensor, ge: torch.Tensor | None, speed: float = 1.0
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """y: (B, ssl_dim, T) quantized content at 50 Hz; text: (B, P) phoneme ids.
        Returns (hidden, m_p, logs_p, mask); ``speed`` != 1 resamples the hidden sequence
        to int(T / speed) + 1 frames before the projection."""
        y_mask = sequence_mask(y_lengths, y.size(2)).unsqueeze(1).to(y.dtype)
        y = self.ssl_proj(y * y_mask) * y_mask
        y = self.encoder_ssl(y * y_mask, y_mask)
        text_mask = sequence_mask(text_lengths, text.size(1)).unsqueeze(1).to(y.dtype)
        t = self.text_embedding(text).transpose(1, 2)
        t = self.encoder_text(t * text_mask, text_mask)
        y = self.mrte(y, y_mask, t, text_mask, ge)
        y = self.encoder2(y * y_mask, y_mask)
        if speed != 1:
            y = F.interpolate(y, size=int(y.shape[-1] / speed) + 1, mode="linear")
            y_mask = F.interpolate(y_mask, size=y.shape[-1], mode="nearest")
        stats = self.proj(y) * y_mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        return y, m, logs, y_mask
