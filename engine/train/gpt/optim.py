"""The optimizer: the core of icefall's ScaledAdam, which upstream trains GPT with.

What we keep, because it sets what "lr 0.002" means: each update is Adam's normalised
direction times the parameter's own RMS (a *relative* step), with betas (0.9, 0.95), and
gradient clipping at ``clipping_scale`` x the median of recent gradient norms. Scalars
(the positional ``alpha``) get plain Adam at 0.1 x lr. What we leave out: ScaledAdam's
separate learning of each tensor's scale and its periodic diagnostics; the trained
direction is the same, the scale drifts only through the ordinary update.

Decision on upstream's oddities (spec §10.7): its WarmupCosine schedule is built but its
``step()`` pins the rate at 0.002, so we use a constant rate and say so; ``gradient_clip``
from the YAML is never used upstream and is not used here either (the median clipping is).
"""
from __future__ import annotations

import torch


class ScaledAdamLite(torch.optim.Optimizer):
    def __init__(self, params, lr: float = 0.002, betas: tuple[float, float] = (0.9, 0.95),
                 eps: float = 1e-8, param_min_rms: float = 1e-5, scalar_lr_scale: float = 0.1,
                 clipping_scale: float = 2.0, history: int = 128) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, param_min_rms=param_min_rms,
                                      scalar_lr_scale=scalar_lr_scale))
        self.clipping_scale = clipping_scale
        self.history = history
        self.norms: list[float] = []

    def _clip_factor(self) -> float:
        sq = [p.grad.detach().float().pow(2).sum() for g in self.param_groups for p in g["params"]
              if p.grad is not None]
        if not sq:
            return 1.0
        norm = float(torch.stack(sq).sum().sqrt())
        self.norms = (self.norms + [norm])[-self.history:]
        limit = self.clipping_scale * sorted(self.norms)[len(self.norms) // 2]
        return min(1.0, limit / (norm + 1e-20)) if norm == norm else 0.0  # NaN: skip the step

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        factor = self._clip_factor()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.float() * factor
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["m"] = torch.zeros_like(p, dtype=torch.float32)
                    st["v"] = torch.zeros_like(p, dtype=torch.float32)
                st["step"] += 1
                st["m"].mul_(b1).add_(grad, alpha=1 - b1)
                st["v"].mul_(b2).addcmul_(grad, grad, value=1 - b2)
                m_hat = st["m"] / (1 - b1 ** st["step"])
                v_hat = st["v"] / (1 - b2 ** st["step"])
                direction = m_hat / (v_hat.sqrt() + group["eps"])
                if p.numel() == 1:
                    scale = group["lr"] * group["scalar_lr_scale"]
                else:
                    rms = p.detach().float().pow(2).mean().sqrt().clamp(min=group["param_min_rms"])
                    scale = group["lr"] * rms
                p.add_((-scale * direction).to(p.dtype))
        return None

    def state_dict(self):  # type: ignore[override]
        sd = super().state_dict()
        sd["clip_norms"] = list(self.norms)
        return sd

    def load_state_dict(self, state_dict):  # type: ignore[override]
        state_dict = dict(state_dict)
        self.norms = [float(x) for x in state_dict.pop("clip_norms", [])]
        super().load_state_dict(state_dict)
