"""The semantic-token codebook: a one-layer residual vector quantizer (1024 x 768) whose
buffers keep upstream's names. Nearest code by squared Euclidean distance; the EMA update
(used only when the quantizer is trained, never in fine-tuning) is provided for completeness."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Codebook(nn.Module):
    def __init__(self, dim: int, size: int, decay: float = 0.99, eps: float = 1e-5) -> None:
        super().__init__()
        self.decay = decay
        self.eps = eps
        self.register_buffer("inited", torch.ones(1))
        self.register_buffer("cluster_size", torch.zeros(size))
        self.register_buffer("embed", torch.randn(size, dim) * dim ** -0.5)
        self.register_buffer("embed_avg", self.embed.clone())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, D) -> (N,) nearest code ids."""
        e = self.embed.to(x.dtype)
        dist = x.pow(2).sum(1, keepdim=True) - 2 * x @ e.t() + e.pow(2).sum(1)[None]
        return dist.argmin(dim=-1)

    def decode(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.embed)

    @torch.no_grad()
    def ema_update(self, x: torch.Tensor, ids: torch.Tensor) -> None:
        onehot = F.one_hot(ids, self.embed.shape[0]).to(x.dtype)
        self.cluster_size.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
        self.embed_avg.mul_(self.decay).add_(onehot.t() @ x, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (n + self.embed.shape[0] * self.eps) * n
        self.embed.copy_(self.embed_avg / smoothed.unsqueeze(1))


class _Layer(nn.Module):
    def __init__(self, dim: int, size: int) -> None:
        super().__init__()
        self._codebook = Codebook(dim, size)


class _Stack(nn.Module):
    def __init__(self, dim: int, size: int, n_q: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(_Layer(dim, size) for _ in range(n_q))


class ResidualVQ(nn.Module):
    def __init__(self, dim: int = 768, size: int = 1024, n_q: int = 1) -> None:
        super().__init__()
        self.vq = _Stack(dim, size, n_q)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, D, T) -> codes (n_q, B, T)."""
        b, d, t = x.shape
        residual = x.transpose(1, 2).reshape(b * t, d)
        codes = []
        for layer in self.vq.layers:
            ids = layer._codebook.encode(residual)
            residual = residual - layer._codebook.decode(ids).to(residual.dtype)
            codes.append(ids.view(b, t))
        return torch.stack(codes)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (n_q, B, T) -> (B, D, T), the sum over layers."""
        out = None
        for i, ids in enumerate(codes):
            q = self.vq.layers[i]._codebook.decode(ids).transpose(1, 2)
            out = q if out is None else out + q
        return out

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Quantize (B, D, T): (quantized, codes, commit_loss). In training mode a
        straight-through estimator passes gradients to x and the codebook learns by EMA."""
        codes = self.encode(x)
        q = self.decode(codes).to(x.dtype)
        commit = torch.zeros((), device=x.device)
        if self.training:
            commit = F.mse_loss(q.detach(), x)
            flat = x.detach().transpose(1, 2).reshape(-1, x.shape[1])
            self.vq.layers[0]._codebook.ema_update(flat, codes[0].reshape(-1))
            q = x + (q - x).detach()
        return q, codes, commit
