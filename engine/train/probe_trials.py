"""Trial steps for the batch-size probe (engine.train.probe): a few real training steps of
SoVITS or GPT on b copies of the longest clip, measured by a meter.

``CudaMeter`` reads torch's peak allocation on the GPU; ``BudgetMeter`` is the CPU stand-in
with an injected budget: it counts what a step holds (weights, gradients, optimizer moments,
and every tensor saved for backward, which is what grows with the batch) and fails like the
allocator the moment that passes the budget. The trial models are throwaway copies built
from the request's config, so probing never touches a checkpoint."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import torch

from engine.events import Event, Log
from engine.layout import Layout
from engine.train.probe import OutOfMemory, Probed, find_batch, remember

Step = Callable[[], None]


def _bytes(tensors) -> int:  # noqa: ANN001
    return sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))


def held_bytes(models: list[torch.nn.Module], optims: list[torch.optim.Optimizer]) -> int:
    """Weights, gradients and optimizer state: what a step holds besides activations."""
    out = 0
    for m in models:
        out += _bytes(m.parameters()) + _bytes(p.grad for p in m.parameters())
    for o in optims:
        out += sum(_bytes(s.values()) for s in o.state.values())
    return out


class BudgetMeter:
    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes

    def measure(self, steps: list[Step], models, optims) -> int:  # noqa: ANN001
        peak = 0
        for step in steps:
            base, saved = held_bytes(models, optims), 0

            def pack(t: torch.Tensor) -> torch.Tensor:
                nonlocal saved
                saved += t.numel() * t.element_size()
                if base + saved > self.budget:
                    raise OutOfMemory(f"{base + saved} bytes > budget {self.budget}")
                return t

            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                step()
            peak = max(peak, base + saved, held_bytes(models, optims))
        return peak


class CudaMeter:
    def measure(self, steps: list[Step], models, optims) -> int:  # noqa: ANN001
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        try:
            for step in steps:
                step()
            torch.cuda.synchronize()
        except torch.OutOfMemoryError:
            raise OutOfMemory("CUDA out of memory") from None
        finally:
            for o in optims:
                o.zero_grad(set_to_none=True)
        return int(torch.cuda.max_memory_allocated())


def sovits_trial(req, device: torch.device, meter, steps: int = 2) -> tuple[Callable[[int], int], float]:  # noqa: ANN001
    """trial(batch) for SoVITS, and the longest clip's seconds."""
    from engine.models.sovits.config import HOP, SAMPLE_RATE
    from engine.models.sovits.discriminator import MultiPeriodDiscriminator, periods_for
    from engine.models.sovits.synthesizer import Synthesizer
    from engine.train.sovits import loop
    from engine.train.sovits.data import ClipDataset, collate, scan_experiment

    clips, _ = scan_experiment(Layout(Path(req.project_root), req.slug).exp_dir, req.version)
    i = max(range(len(clips)), key=lambda k: clips[k].frames)
    item = ClipDataset(clips)[i]
    cfg = loop._model_config(req, None)
    net_g = Synthesizer(cfg).to(device).train()
    net_d = MultiPeriodDiscriminator(periods_for(req.version), width=req.disc_width).to(device).train()
    optim_g, optim_d, _ = loop._optimizers(net_g, net_d, req)
    from engine.train import runtime

    # the probe measures what the run will do: same precision, same checkpointing
    rt = runtime.decide(device, amp=req.amp if req.fp16 else "off",
                        grad_checkpoint=req.grad_checkpoint)
    runtime.apply(rt, net_g)
    amp = runtime.autocast_dtype(rt)
    scaler = torch.amp.GradScaler("cuda", enabled=rt.scaler_needed)

    def trial(b: int) -> int:
        batch = {k: v.to(device) for k, v in collate([item] * b, cfg.segment_frames).items()}

        def one() -> None:
            loop._train_step(net_g, net_d, optim_g, optim_d, scaler, batch, amp, cfg.segment_frames)

        try:
            return meter.measure([one] * steps, [net_g, net_d], [optim_g, optim_d])
        finally:
            del batch

    return trial, clips[i].frames * HOP / SAMPLE_RATE


def gpt_trial(req, device: torch.device, meter, steps: int = 2) -> tuple[Callable[[int], int], float]:  # noqa: ANN001
    """trial(batch) for GPT, and the longest utterance's seconds (25 codes a second)."""
    from engine.train.gpt import trainer
    from engine.train.gpt.data import HZ, collate, read_items
    from engine.train.gpt.optim import ScaledAdamLite

    layout = Layout(Path(req.project_root), req.slug)
    model, _ = trainer._initial_model(req)
    version = "v1" if model.cfg.phoneme_vocab_size == 512 else "v2"
    items, _ = read_items(layout.exp_dir, version, req.max_sec)
    longest = max(items, key=lambda it: (len(it.codes), len(it.phones)))
    model.to(device).train()
    opt = ScaledAdamLite(model.parameters(), lr=req.learning_rate)
    rt = trainer._runtime(req, device)  # the run's precision and checkpointing
    trainer.runtime.apply(rt, model)
    autocast, scaler = trainer._autocast(req, device, rt)
    gen = torch.Generator().manual_seed(0)

    def trial(b: int) -> int:
        batch = collate([longest] * b, layout.exp_dir / "3-bert", model.cfg.EOS).to(device)

        def one() -> None:
            with autocast():
                loss, _ = trainer._batch_loss(model, batch, req.dpo, gen)
            (scaler.scale(loss) if scaler is not None else loss).backward()
            if scaler is not None:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()
            opt.zero_grad(set_to_none=True)

        return meter.measure([one] * steps, [model], [opt])

    return trial, len(longest.codes) / HZ


def probe_stage(stage: str, req, device: torch.device, device_name: str, memory_gb: float,  # noqa: ANN001
                start: int, meter=None, budget_bytes: int | None = None,
                limit: int | None = None) -> Iterator[Event]:
    """Generator: find and remember the batch size for ``stage`` ("SoVITS" | "GPT");
    returns it (0 when not even 1 fits)."""
    budget = budget_bytes or int(memory_gb * 2**30)
    meter = meter or CudaMeter()
    make = sovits_trial if stage == "SoVITS" else gpt_trial
    yield Log(f"{stage}: probing the largest batch that fits {memory_gb:.0f} GB "
              "(a few steps on the longest clip)…")
    trial, longest = make(req, device, meter)
    res = find_batch(trial, budget, start=start, limit=limit or (64 if stage == "SoVITS" else 40))
    if device.type == "cuda":
        torch.cuda.empty_cache()
    tried = ", ".join(f"{b} {how}" for b, how in res.tried)
    yield Log(f"{stage}: batch {res.batch}: {res.why()} (tried {tried})")
    if res.batch:
        remember(Layout(Path(req.project_root), req.slug).exp_dir, device_name, memory_gb,
                 stage.lower(), Probed(res.batch, round(res.peak_bytes / 2**30, 2), round(longest, 2)))
    return res.batch
