"""GPT training objectives: summed cross-entropy (upstream), top-3 accuracy, and the optional
reference-free DPO term against synthetic "rejected" readings (spec §6.2).

Decisions on upstream's DPO oddities: its rejected sequences are built from the *padded*
rows and its random choice ``randint(0, 1)`` always picks "repeat"; here a rejected reading
is made from the real codes only, by repeating or deleting a random span with equal odds,
and sequence log-probabilities sum over real positions (codes + EOS) only.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

DPO_BETA = 0.2


def ce_sum(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over valid positions (upstream sums: longer clips weigh more)."""
    ce = F.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none")
    return (ce * valid).sum()


@torch.no_grad()
def top3_accuracy(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor,
                  eos: int) -> float:
    keep = valid & (targets != eos)  # upstream's metric ignores EOS targets
    if not keep.any():
        return 0.0
    hit = (logits.topk(3, dim=-1).indices == targets.unsqueeze(-1)).any(-1)
    return float(hit[keep].float().mean())


def sequence_logp(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    lp = torch.gather(logits.float().log_softmax(-1), 2, targets.unsqueeze(2)).squeeze(2)
    return (lp * valid).sum(-1)


def make_rejected(codes: torch.Tensor, lens: torch.Tensor, eos: int,
                  gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row: duplicate a random span (a stutter) or delete one (a skipped word)."""
    rows: list[torch.Tensor] = []
    for i in range(codes.shape[0]):
        y = codes[i, :int(lens[i])].cpu()
        n = y.shape[0]
        a, b = sorted(torch.randint(0, n + 1, (2,), generator=gen).tolist())
        if b == a:  # an empty span would make the "bad" reading identical to the good one
            b = min(n, a + 1) if a < n else a
            a = b - 1
        repeat = bool(torch.randint(0, 2, (1,), generator=gen))
        if repeat or (b - a) >= n:  # never delete everything
            rows.append(torch.cat([y[:b], y[a:b], y[b:]]))
        else:
            rows.append(torch.cat([y[:a], y[b:]]))
    new_lens = torch.tensor([r.shape[0] for r in rows])
    out = torch.full((len(rows), int(new_lens.max())), eos, dtype=codes.dtype)
    for i, r in enumerate(rows):
        out[i, :r.shape[0]] = r
    return out.to(codes.device), new_lens.to(codes.device)


def dpo_loss(chosen_logp: torch.Tensor, rejected_logp: torch.Tensor,
             beta: float = DPO_BETA) -> torch.Tensor:
    """Reference-free DPO: -log sigmoid(beta * (log p(chosen) - log p(rejected))), batch mean."""
    return -F.logsigmoid(beta * (chosen_logp - rejected_logp)).mean()
