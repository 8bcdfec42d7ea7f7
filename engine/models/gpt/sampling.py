"""Turning one step's logits into the next token, in upstream's order (spec §4.3):
repetition penalty over the whole history (prompt included) -> top-p -> temperature ->
top-k -> softmax -> argmax(p / Exp(1) noise). Keeping the order and the noise draw means a
seeded run picks the same tokens as upstream does after ``torch.manual_seed(seed)``."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Sampling:
    top_k: int = 15
    top_p: float = 1.0
    temperature: float = 1.0
    repetition_penalty: float = 1.35


def penalise(logits: torch.Tensor, history: torch.Tensor, penalty: float) -> None:
    """In place: every id seen in ``history`` [B,T] gets logit*penalty if negative, else /penalty.
    (In place matters: upstream's EOS-stop test reads the penalised logits.)"""
    if penalty == 1.0 or history.shape[1] == 0:
        return
    idx = history.long()
    score = torch.gather(logits, 1, idx)
    score = torch.where(score < 0, score * penalty, score / penalty)
    logits.scatter_(1, idx, score)


def probabilities(logits: torch.Tensor, s: Sampling) -> torch.Tensor:
    """Probabilities from already-penalised logits [B,V] (not modified)."""
    if s.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        cum = torch.cumsum(torch.softmax(sorted_logits, dim=-1), dim=-1)
        drop = cum > s.top_p
        drop[:, 0] = False  # always keep the best token
        logits = logits.masked_fill(drop.scatter(1, order, drop), float("-inf"))
    logits = logits / max(s.temperature, 1e-5)
    if s.top_k > 0:
        pivot = torch.topk(logits, min(s.top_k, logits.shape[-1])).values[:, -1:]
        logits = torch.where(logits < pivot, float("-inf"), logits)
    return torch.softmax(logits, dim=-1)


def draw(probs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """argmax(p / q) with q ~ Exp(1): an exact categorical draw without a CPU/GPU sync.
    A fresh contiguous q per step (V floats) keeps the random stream identical to upstream's."""
    q = torch.empty_like(probs).exponential_(1, generator=generator)
    return torch.argmax(probs / q, dim=-1)


def pick(logits: torch.Tensor, history: torch.Tensor, s: Sampling, allow_eos: bool,
         generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """One decoding step's choice, in upstream's order: EOS (the last column) removed while
    it is not yet allowed, repetition penalty over ``history``, then the draw. Returns the
    token and the penalised logits, whose argmax the stop rule reads."""
    if not allow_eos:
        logits = logits[:, :-1]
    penalise(logits, history, s.repetition_penalty)
    return draw(probabilities(logits, s), generator), logits
