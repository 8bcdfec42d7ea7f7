"""One decoding step with fixed shapes, so a CUDA graph can capture it (engine.models.gpt.graph).

The exact loop (:meth:`Text2Semantic.step`) attends over ``cache[:length]``: every step has
new shapes and its write position is a Python int, which a captured graph cannot follow.
Here everything that changes from step to step lives in device tensors that are written
*before* the step runs:

* ``token`` [B,1]: the previous token of each row, ``apos`` [1]: its audio position,
  ``cpos`` [1]: the cache slot it is written to (keys/values go in with ``index_copy_``);
* attention reads a fixed window ``cache[:W]`` (W a multiple of :data:`WINDOW`) under a
  mask ``keys[:, :W] & (slot <= cpos)``, so the shapes change only when the sequence crosses
  into the next window (one graph per window: a few per decode, instead of one per step);
* the logits land in one preallocated buffer.

The arithmetic is the exact loop's (same embeddings, products and layer norms); only the
attention's reduction runs over a padded, masked window, which can move the last bit of a
logit. Greedy tokens stay the same (tests/engine/gpt/test_static.py holds that on upstream's
fixtures and on 300 tokens of the full-size random model).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from engine.models.gpt.model import KVCache, Text2Semantic

if TYPE_CHECKING:  # pragma: no cover
    from engine.models.gpt.precision import Matmuls

WINDOW = 256  # attention window granularity: reading the whole 1500-token cache every
# step would cost as much memory traffic as the weights on a GPU; a window close above
# the current length costs little more than the exact slice.


def window_for(slot: int, capacity: int) -> int:
    """The window that holds cache slot ``slot`` (0-based): the next multiple of WINDOW."""
    return min(capacity, (slot // WINDOW + 1) * WINDOW)


def capacity_for(length: int) -> int:
    """Cache capacity for ``length`` slots, rounded so nearby lengths share one cache."""
    return -(-length // WINDOW) * WINDOW


class StaticStep:
    """Buffers and the step function over one preallocated cache of ``capacity`` slots."""

    def __init__(self, model: Text2Semantic, batch: int, capacity: int, *,
                 cache_dtype: torch.dtype, mm: Matmuls | None = None) -> None:
        p = next(model.parameters())
        dev = p.device
        self.model, self.mm, self.batch, self.capacity = model, mm, batch, capacity
        self.cache = KVCache.allocate(model.cfg, batch, capacity, dtype=cache_dtype, device=dev)
        for t in self.cache.k + self.cache.v:  # masked slots still enter the products (with
            t.zero_()  # weight 0): uninitialised memory could hold NaN, and 0 * NaN = NaN
        self.keys = torch.ones(batch, capacity, dtype=torch.bool, device=dev)  # may be attended
        self.token = torch.zeros(batch, 1, dtype=torch.long, device=dev)
        self.apos = torch.zeros(1, dtype=torch.long, device=dev)
        self.cpos = torch.zeros(1, dtype=torch.long, device=dev)
        self.slots = torch.arange(capacity, device=dev)
        self.logits = torch.zeros(batch, model.cfg.vocab_size, dtype=p.dtype, device=dev)

    def set_inputs(self, tokens: torch.Tensor, audio_pos: int, slot: int) -> None:
        """Copies/fills only (no new shapes, no host sync): safe between graph replays."""
        self.token.copy_(tokens)
        self.apos.fill_(audio_pos)
        self.cpos.fill_(slot)

    def __call__(self, window: int) -> torch.Tensor:
        """Run the step over ``cache[:window]``; returns the logits buffer [B,V]."""
        m, mm = self.model, self.mm
        pos = m.ar_audio_position
        x = m.ar_audio_embedding(self.token)
        pe = pos.pe.index_select(0, self.apos)  # [1,D], the exact loop's pe[start:start+1]
        h = pos.dropout(x + pos.alpha * pe.to(x.dtype))
        mask = (self.keys[:, :window] & (self.slots[:window] <= self.cpos)).view(
            self.batch, 1, 1, window)
        for i, layer in enumerate(m.h.layers):
            lm = None if mm is None else mm.layers[i]
            a = layer.self_attn
            qkv = F.linear(h, a.in_proj_weight, a.in_proj_bias) if lm is None else lm[0](h)
            q, k, v = qkv.chunk(3, dim=-1)
            kb, vb = self.cache.k[i], self.cache.v[i]
            kb.index_copy_(2, self.cpos, layer._split(k).to(kb.dtype))
            vb.index_copy_(2, self.cpos, layer._split(v).to(vb.dtype))
            att = F.scaled_dot_product_attention(layer._split(q), kb[:, :, :window],
                                                 vb[:, :, :window], attn_mask=mask)
            h = layer._finish(h, att, lm)
        self.logits.copy_(m.logits(h[:, -1], mm))
        return self.logits
