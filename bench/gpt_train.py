"""Seconds per training batch of the full-size GPT (forward + backward + optimizer step),
to say what CPU fine-tuning costs. Batch of 4 clips of ~6 s (150 codes, 60 phonemes).
Usage: .venv/bin/python bench/gpt_train.py [--threads 1] [--device cpu] [--dpo] [--out FILE]
"""
from __future__ import annotations

import argparse
import os
import resource
import time

import torch

from engine.models.gpt import GptConfig, Text2Semantic
from engine.train.gpt import losses
from engine.train.gpt.optim import ScaledAdamLite


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batches", type=int, default=3)
    ap.add_argument("--dpo", action="store_true")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Text2Semantic(GptConfig()).to(a.device).train()
    opt = ScaledAdamLite(model.parameters())
    b, p, t = 4, 60, 150
    phones = torch.randint(0, 732, (b, p), device=a.device)
    codes = torch.randint(0, 1024, (b, t), device=a.device)
    bert = torch.randn(b, 1024, p, device=a.device) * 0.1
    p_lens = torch.full((b,), p, device=a.device)
    t_lens = torch.full((b,), t, device=a.device)
    gen = torch.Generator().manual_seed(0)
    times = []
    for i in range(a.batches + 1):
        t0 = time.perf_counter()
        logits, targets, valid = model.forward_train(phones, p_lens, codes, t_lens, bert)
        loss = losses.ce_sum(logits, targets, valid)
        if a.dpo:
            rej, rl = losses.make_rejected(codes, t_lens, 1024, gen)
            r = model.forward_train(phones, p_lens, rej, rl, bert)
            loss = loss + losses.dpo_loss(losses.sequence_logp(logits, targets, valid),
                                          losses.sequence_logp(*r))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()
        if i:  # the first batch warms up allocators
            times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = (f"full-size GPT training, {a.device}, {a.threads} thread(s), batch 4 x (60 phonemes, "
            f"150 codes){' + DPO' if a.dpo else ''}: **{min(times):.1f} s/batch** (best of "
            f"{len(times)}); peak RSS {rss:.0f} MiB; load avg {os.getloadavg()[0]:.1f}")
    print(text)
    if a.out:
        with open(a.out, "a", encoding="utf-8") as f:
            f.write(f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {text}\n")


if __name__ == "__main__":
    main()
