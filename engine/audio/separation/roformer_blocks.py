"""The pieces BS-RoFormer and Mel-Band-RoFormer share: RMSNorm, gated attention with rotary
positions, feed-forward, the axial transformer, band-split input MLPs and mask estimators.

Module names and parameter shapes follow the published checkpoints (the layout of
lucidrains' BS-RoFormer as ZFTurbo, UVR and upstream GPT-SoVITS load it), so a state dict
loads strictly: ``layers.<i>.<j>.layers.<k>.0.{norm.gamma,to_qkv,to_gates,to_out.0,
rotary_embed.freqs}``, ``...<k>.1.net.{0.gamma,1,4}``, ``band_split.to_features.<b>.{0,1}``,
``mask_estimators.<s>.to_freqs.<b>.0.<2i>``. Our own code; no einops.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.scale = dim ** 0.5
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=-1) * self.scale * self.gamma


class Rotary(nn.Module):
    """Rotary positions on adjacent pairs of a head's channels (the 'lang' flavour, theta
    10000). The checkpoints store the inverse frequencies, so they are a buffer here."""

    def __init__(self, dim_head: int, theta: float = 10000.0) -> None:
        super().__init__()
        steps = torch.arange(0, dim_head, 2, device="cpu")[: dim_head // 2].float()
        inv = 1.0 / theta ** (steps / dim_head)
        self.register_buffer("freqs", inv)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """t: (..., n, d) → rotated by position along n."""
        n = t.shape[-2]
        pos = torch.arange(n, device=t.device, dtype=self.freqs.dtype)
        ang = (pos[:, None] * self.freqs[None, :]).repeat_interleave(2, dim=-1)
        cos, sin = ang.cos().to(t.dtype), ang.sin().to(t.dtype)
        pairs = t.unflatten(-1, (-1, 2))
        rot = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)
        return t * cos + rot * sin


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, dim_head: int, rotary: bool) -> None:
        super().__init__()
        self.heads = heads
        inner = heads * dim_head
        self.norm = RMSNorm(dim)
        self.to_qkv = nn.Linear(dim, inner * 3, bias=False)
        self.to_gates = nn.Linear(dim, heads)  # a sigmoid gate per head
        self.to_out = nn.Sequential(nn.Linear(inner, dim, bias=False))
        self.rotary_embed = Rotary(dim_head) if rotary else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        b, n, _ = x.shape
        q, k, v = self.to_qkv(x).view(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        if self.rotary_embed is not None:
            q, k = self.rotary_embed(q), self.rotary_embed(k)
        out = F.scaled_dot_product_attention(q, k, v)
        out = out * self.to_gates(x).transpose(1, 2).unsqueeze(-1).sigmoid()
        return self.to_out(out.transpose(1, 2).reshape(b, n, -1))


class LinearAttention(nn.Module):
    """Attention across feature channels instead of positions (El-Nouby et al.), used when a
    yaml sets linear_transformer_depth > 0."""

    def __init__(self, dim: int, heads: int, dim_head: int) -> None:
        super().__init__()
        self.heads = heads
        inner = heads * dim_head
        self.norm = RMSNorm(dim)
        self.to_qkv = nn.Sequential(nn.Linear(dim, inner * 3, bias=False))
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.to_out = nn.Sequential(nn.Identity(), nn.Linear(inner, dim, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        b, n, _ = x.shape
        # (3, b, h, d, n): each head's channels become the attended axis
        q, k, v = self.to_qkv(x).view(b, n, 3, self.heads, -1).permute(2, 0, 3, 4, 1)
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        q = q * self.temperature.exp()
        out = F.scaled_dot_product_attention(q, k, v, scale=8.0)
        return self.to_out(out.permute(0, 3, 1, 2).reshape(b, n, -1))


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        inner = int(dim * mult)
        self.net = nn.Sequential(RMSNorm(dim), nn.Linear(dim, inner), nn.GELU(), nn.Identity(),
                                 nn.Linear(inner, dim), nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Transformer(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, dim_head: int, *, rotary: bool,
                 norm_output: bool, linear: bool = False) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.ModuleList([LinearAttention(dim, heads, dim_head) if linear
                           else Attention(dim, heads, dim_head, rotary), FeedForward(dim)])
            for _ in range(depth))
        self.norm = RMSNorm(dim) if norm_output else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for attn, ff in self.layers:
            x = attn(x) + x
            x = ff(x) + x
        return self.norm(x)


class BandSplit(nn.Module):
    """Each band's (freq × channel × re/im) values → one ``dim`` feature."""

    def __init__(self, dim: int, dim_inputs: tuple[int, ...]) -> None:
        super().__init__()
        self.dim_inputs = dim_inputs
        self.to_features = nn.ModuleList(nn.Sequential(RMSNorm(d), nn.Linear(d, dim))
                                         for d in dim_inputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = x.split(self.dim_inputs, dim=-1)
        return torch.stack([f(p) for p, f in zip(parts, self.to_features)], dim=-2)


def mlp(dim_in: int, dim_out: int, dim_hidden: int, n_hidden: int) -> nn.Sequential:
    dims = (dim_in, *([dim_hidden] * n_hidden), dim_out)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class MaskEstimator(nn.Module):
    """One MLP + GLU per band, back to that band's complex values. ``n_hidden`` differs
    between the two published files: BS uses depth − 1 hidden layers, Mel uses depth."""

    def __init__(self, dim: int, dim_inputs: tuple[int, ...], n_hidden: int,
                 expansion: int = 4) -> None:
        super().__init__()
        self.to_freqs = nn.ModuleList(
            nn.Sequential(mlp(dim, d * 2, dim * expansion, n_hidden), nn.GLU(dim=-1))
            for d in dim_inputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([f(band) for band, f in zip(x.unbind(dim=-2), self.to_freqs)], -1)


def axial_layers(p, norm_output: bool) -> nn.ModuleList:
    """``depth`` blocks of [linear transformer], time transformer, frequency transformer;
    BS has no per-transformer output norm, Mel has one. The model keeps this list as its
    ``layers`` attribute (the checkpoints' ``layers.<i>.<j>`` keys)."""
    kw = dict(heads=p.heads, dim_head=p.dim_head, norm_output=norm_output)
    blocks = []
    for _ in range(p.depth):
        mods = []
        if p.linear_transformer_depth > 0:
            mods.append(Transformer(p.dim, p.linear_transformer_depth, rotary=False,
                                    linear=True, **kw))
        mods.append(Transformer(p.dim, p.time_transformer_depth, rotary=True, **kw))
        mods.append(Transformer(p.dim, p.freq_transformer_depth, rotary=True, **kw))
        blocks.append(nn.ModuleList(mods))
    return nn.ModuleList(blocks)


def run_axial(layers: nn.ModuleList, x: torch.Tensor, skip: bool) -> torch.Tensor:
    """x: (batch, time, bands, dim). ``skip`` adds every earlier block's output first."""
    b, t, f, d = x.shape
    store: list[torch.Tensor] = []
    for block in layers:
        if len(block) == 3:
            x = block[0](x.reshape(b, t * f, d)).view(b, t, f, d)
        if skip:
            for prev in store:
                x = x + prev
        time_tf, freq_tf = block[-2], block[-1]
        x = time_tf(x.transpose(1, 2).reshape(b * f, t, d)).view(b, f, t, d).transpose(1, 2)
        x = freq_tf(x.reshape(b * t, f, d)).view(b, t, f, d)
        if skip:
            store.append(x)
    return x
