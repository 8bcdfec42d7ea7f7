"""The GPT text-to-semantic decoder: phonemes + BERT features (+ prompt semantic tokens) ->
next semantic token. Parameter names equal upstream's ``Text2SemanticDecoder`` so a state dict
loads key for key (exported files add the ``model.`` prefix of the Lightning wrapper).

Two ways to run it: :meth:`Text2Semantic.forward_train` (teacher forcing over whole padded
batches) and :meth:`prefill` / :meth:`step` over a preallocated :class:`KVCache` (decoding).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.gpt.config import BERT_DIM, GptConfig

if TYPE_CHECKING:  # pragma: no cover
    from engine.models.gpt.precision import LayerMatmuls, Matmuls

PE_DROPOUT = 0.1  # upstream hard-codes 0.1 for positions, attention and FFN in training


def sine_table(n: int, dim: int) -> torch.Tensor:
    """Sinusoidal positions (sin on even dims, cos on odd), computed in fp32 like upstream."""
    pos = torch.arange(0, n, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * -(math.log(10000.0) / dim))
    pe = torch.zeros(n, dim)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


class SinePosition(nn.Module):
    """Adds ``alpha * PE[start:start+T]``; alpha is the only learnt value (key ``alpha``)."""

    def __init__(self, dim: int, dropout: float = PE_DROPOUT, size: int = 4000) -> None:
        super().__init__()
        self.dim = dim
        self.alpha = nn.Parameter(torch.ones(1))
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", sine_table(size, dim), persistent=False)

    def table(self, length: int) -> torch.Tensor:
        if length > self.pe.shape[0]:  # grow once instead of failing on a long piece
            self.pe = sine_table(max(length, 2 * self.pe.shape[0]), self.dim).to(self.pe)
        return self.pe

    def forward(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        pe = self.table(start + x.shape[1])[start:start + x.shape[1]]
        return self.dropout(x + self.alpha * pe.to(x.dtype))


class TokenEmbedding(nn.Module):
    def __init__(self, dim: int, vocab: int, dropout: float) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.word_embeddings(ids))


class SelfAttention(nn.Module):
    """Fused-QKV attention with nn.MultiheadAttention's parameter names."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)


class Block(nn.Module):
    """One post-norm transformer layer (norm after each residual add, ReLU FFN)."""

    def __init__(self, dim: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.self_attn = SelfAttention(dim, heads)
        self.linear1 = nn.Linear(dim, ffn)
        self.linear2 = nn.Linear(ffn, dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.drop = PE_DROPOUT

    def _split(self, t: torch.Tensor) -> torch.Tensor:  # [B,T,D] -> [B,H,T,Dh]
        b, n, d = t.shape
        return t.view(b, n, self.self_attn.heads, d // self.self_attn.heads).transpose(1, 2)

    def _finish(self, x: torch.Tensor, att: torch.Tensor,
                mm: LayerMatmuls | None = None) -> torch.Tensor:
        b, h, n, dh = att.shape
        att = att.transpose(1, 2).reshape(b, n, h * dh)
        if mm is not None:  # decoding at a lower precision (engine.models.gpt.precision)
            n1, n2 = self.norm1, self.norm2
            x = F.layer_norm(x + mm[1](att), n1.normalized_shape, n1.weight, n1.bias, n1.eps)
            ff = mm[3](F.relu(mm[2](x), inplace=True))
            return F.layer_norm(x + ff, n2.normalized_shape, n2.weight, n2.bias, n2.eps)
        att = F.linear(att, self.self_attn.out_proj.weight, self.self_attn.out_proj.bias)
        n1, n2 = self.norm1, self.norm2
        if self.training:
            p = self.drop
            x = n1(x + F.dropout(att, p))
            ff = self.linear2(F.dropout(F.relu(self.linear1(x)), p))
            return n2(x + F.dropout(ff, p))
        # Inference: plain functional calls (this runs 24x per decoded token).
        x = F.layer_norm(x + att, n1.normalized_shape, n1.weight, n1.bias, n1.eps)
        ff = F.linear(F.relu(F.linear(x, self.linear1.weight, self.linear1.bias), inplace=True),
                      self.linear2.weight, self.linear2.bias)
        return F.layer_norm(x + ff, n2.normalized_shape, n2.weight, n2.bias, n2.eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``mask``: boolean (True = may attend), broadcastable to [B,H,T,T]."""
        a = self.self_attn
        q, k, v = F.linear(x, a.in_proj_weight, a.in_proj_bias).chunk(3, dim=-1)
        p = self.drop if self.training else 0.0
        att = F.scaled_dot_product_attention(self._split(q), self._split(k), self._split(v),
                                             attn_mask=mask, dropout_p=p)
        return self._finish(x, att)

    def forward_cached(self, x: torch.Tensor, k_buf: torch.Tensor, v_buf: torch.Tensor,
                       start: int, mask: torch.Tensor | None,
                       mm: LayerMatmuls | None = None) -> torch.Tensor:
        """Attend ``x`` (positions start..start+T) to the cache, writing its keys/values first.
        ``mm``: this layer's (qkv, out, ffn1, ffn2) products at another precision."""
        a = self.self_attn
        qkv = F.linear(x, a.in_proj_weight, a.in_proj_bias) if mm is None else mm[0](x)
        q, k, v = qkv.chunk(3, dim=-1)
        end = start + x.shape[1]
        k_buf[:, :, start:end] = self._split(k)
        v_buf[:, :, start:end] = self._split(v)
        att = F.scaled_dot_product_attention(self._split(q), k_buf[:, :, :end],
                                             v_buf[:, :, :end], attn_mask=mask)
        return self._finish(x, att, mm)


class Stack(nn.Module):
    """Holds the layers as ``layers.<i>`` so keys read ``h.layers.<i>....`` like upstream."""

    def __init__(self, cfg: GptConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList(Block(cfg.hidden_dim, cfg.head, cfg.ffn_dim)
                                    for _ in range(cfg.n_layer))


@dataclass
class KVCache:
    """Keys and values for every layer, allocated once for the whole decode: [B,H,Tmax,Dh]."""

    k: list[torch.Tensor]
    v: list[torch.Tensor]
    length: int = 0

    @classmethod
    def allocate(cls, cfg: GptConfig, batch: int, max_len: int, *, dtype: torch.dtype,
                 device: torch.device) -> "KVCache":
        shape = (batch, cfg.head, max_len, cfg.hidden_dim // cfg.head)
        return cls([torch.empty(shape, dtype=dtype, device=device) for _ in range(cfg.n_layer)],
                   [torch.empty(shape, dtype=dtype, device=device) for _ in range(cfg.n_layer)])

    def select(self, rows: torch.Tensor) -> None:
        """Keep only some batch rows (finished sequences leave a batch)."""
        self.k = [t.index_select(0, rows) for t in self.k]
        self.v = [t.index_select(0, rows) for t in self.v]


class Text2Semantic(nn.Module):
    def __init__(self, cfg: GptConfig) -> None:
        super().__init__()
        cfg.check()
        self.cfg = cfg
        d = cfg.embedding_dim
        # Definition order = upstream's state-dict order (exports keep it).
        self.bert_proj = nn.Linear(BERT_DIM, d)
        self.ar_text_embedding = TokenEmbedding(d, cfg.phoneme_vocab_size, cfg.dropout)
        self.ar_text_position = SinePosition(d)
        self.ar_audio_embedding = TokenEmbedding(d, cfg.vocab_size, cfg.dropout)
        self.ar_audio_position = SinePosition(d)
        self.h = Stack(cfg)
        self.ar_predict_layer = nn.Linear(cfg.hidden_dim, cfg.vocab_size, bias=False)
        self.grad_checkpoint = False  # training: recompute layers in backward (runtime.py)

    # ---- inputs -------------------------------------------------------------------------
    def embed_text(self, phones: torch.Tensor, bert: torch.Tensor) -> torch.Tensor:
        """phones [B,P] ids, bert [B,1024,P] -> [B,P,D] with text positions from 0."""
        x = self.ar_text_embedding(phones) + self.bert_proj(bert.transpose(1, 2))
        return self.ar_text_position(x)

    def embed_audio(self, codes: torch.Tensor, start: int = 0) -> torch.Tensor:
        return self.ar_audio_position(self.ar_audio_embedding(codes), start)

    # ---- teacher-forced training forward ------------------------------------------------
    def forward_train(self, phones: torch.Tensor, phone_lens: torch.Tensor, codes: torch.Tensor,
                      code_lens: torch.Tensor, bert: torch.Tensor, *,
                      upstream_mask: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits [B, Y+1, V] for targets ``codes + EOS``; returns (logits, targets, valid).

        Phonemes are right-padded (as the 1A collate does). ``upstream_mask=True`` reproduces
        upstream exactly: its phoneme padding mask treats the *first* max-len positions as
        padding (``make_pad_mask_left``), the first code of every row is predicted from the
        batch-wide last text position, and padded code positions are trained towards EOS.
        Our default (decision on spec §10.7) masks the real padding, predicts each row's
        first code from its own last phoneme, and marks padded targets invalid so they do not
        count in the loss. With a batch of one, both modes are the same computation.
        """
        b, x_len = phones.shape
        y_len = codes.shape[1]
        eos = self.cfg.EOS
        ar = torch.arange(max(x_len, y_len + 1), device=phones.device)
        if upstream_mask:
            x_pad = ar[:x_len].unsqueeze(0) < (x_len - phone_lens).unsqueeze(1)
        else:
            x_pad = ar[:x_len].unsqueeze(0) >= phone_lens.unsqueeze(1)
        y_pad = ar[:y_len].unsqueeze(0) >= code_lens.unsqueeze(1)
        # Inputs: real codes, EOS in padded slots; targets: the codes then EOS.
        y_in = torch.where(y_pad, torch.full_like(codes, eos), codes)
        targets = torch.cat([y_in, torch.full_like(codes[:, :1], eos)], dim=1)

        xy = torch.cat([self.embed_text(phones, bert), self.embed_audio(y_in)], dim=1)
        n = x_len + y_len
        blocked = torch.zeros(n, n, dtype=torch.bool, device=phones.device)
        blocked[:x_len, x_len:] = True  # text never sees audio
        blocked[x_len:, x_len:] = torch.triu(torch.ones(y_len, y_len, dtype=torch.bool,
                                                        device=phones.device), diagonal=1)
        blocked = blocked.unsqueeze(0) | torch.cat([x_pad, y_pad], 1).unsqueeze(1)  # [B,n,n]
        allow = ~blocked.unsqueeze(1)  # boolean: valid under autocast whatever the dtype
        h = xy
        recompute = self.grad_checkpoint and torch.is_grad_enabled()
        for layer in self.h.layers:
            if recompute:  # keep only each layer's input; recompute inside backward
                from torch.utils.checkpoint import checkpoint

                h = checkpoint(layer, h, allow, use_reentrant=False)
            else:
                h = layer(h, allow)
        dec = h[:, x_len - 1:]
        if not upstream_mask:  # each row's first code comes from its own last phoneme
            last = h[torch.arange(b, device=h.device), phone_lens - 1]
            dec = torch.cat([last.unsqueeze(1), dec[:, 1:]], dim=1)
        logits = self.ar_predict_layer(dec)
        if upstream_mask:
            valid = torch.ones_like(targets, dtype=torch.bool)
        else:
            valid = ar[:y_len + 1].unsqueeze(0) <= code_lens.unsqueeze(1)
        return logits, targets, valid

    # ---- cached decoding ----------------------------------------------------------------
    # ``mm`` (from engine.models.gpt.precision.matmuls): run the layers' matrix products at
    # a lower precision (the head stays as it is); None = the model's own weights (exact).
    def prefill(self, xy: torch.Tensor, allow: torch.Tensor | None, cache: KVCache,
                mm: Matmuls | None = None) -> torch.Tensor:
        """Run the whole prompt [B,S,D] (``allow``: bool, True = may attend, [B|1,1,S,S]);
        fills cache positions 0..S-1; returns the last position's hidden state [B,D]."""
        h = xy
        for i, layer in enumerate(self.h.layers):
            h = layer.forward_cached(h, cache.k[i], cache.v[i], 0, allow,
                                     None if mm is None else mm.layers[i])
        cache.length = xy.shape[1]
        return h[:, -1]

    def step(self, x1: torch.Tensor, cache: KVCache, allow: torch.Tensor | None = None,
             mm: Matmuls | None = None) -> torch.Tensor:
        """One new position [B,1,D] attending to everything cached; returns hidden [B,D]."""
        h = x1
        start = cache.length
        if mm is not None and mm.step is not None and x1.shape[0] == 1 and allow is None:
            h = mm.step(x1, cache, start)  # all layers in one call (cpu_step.py)
            cache.length = start + 1
            return h
        for i, layer in enumerate(self.h.layers):
            h = layer.forward_cached(h, cache.k[i], cache.v[i], start, allow,
                                     None if mm is None else mm.layers[i])
        cache.length = start + 1
        return h[:, -1]

    def logits(self, hidden: torch.Tensor, mm: Matmuls | None = None) -> torch.Tensor:
        return self.ar_predict_layer(hidden) if mm is None else mm.head(hidden).to(hidden.dtype)
