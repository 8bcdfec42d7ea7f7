"""``run_gpt_training``: fine-tune the GPT on the 1A folder as upstream's s1_train does (spec
§6.2), yielding typed progress, exporting ``GPT_weights/<slug>-e<E>.ckpt`` every
``save_every`` epochs, resuming automatically from the newest saved state, and stopping
gracefully (state saved) when asked.

Loop shape: backward every batch; an optimizer step every ``accumulate`` batches (upstream:
4) and at the end of each epoch, so a saved state never holds half-accumulated gradients.
Each batch reseeds torch from (seed, batch number), so dropout and DPO draws do not depend
on where a run was stopped and resumed. A batch whose loss (or an update whose gradients) is
not finite is skipped, never learned from; ``bad_step_limit`` of them in a row stop the run
with a sentence, the saved states untouched. An unreadable newest state falls back to the
one before it (see state.py).
"""
from __future__ import annotations

import contextlib
import math
import time
from functools import partial
from pathlib import Path
from typing import Iterator

import torch

from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.layout import Layout
from engine.models.gpt.config import GptConfig, upstream_config
from engine.models.gpt.model import Text2Semantic
from engine.models.gpt.weights import export_gpt, load_gpt
from engine.settings import validate
from engine.train import distributed as dd
from engine.train import runtime
from engine.train.gpt import losses
from engine.train.gpu import GpuMeter
from engine.train.loader import epoch_loader
from engine.train.gpt.data import Batch, collate, effective_batch_size, epoch_batches, read_items
from engine.train.gpt.optim import ScaledAdamLite
from engine.train.gpt.request import GptTrainRequest
from engine.train.gpt.state import (TrainState, Unreadable, load_state, remove_leftovers,
                                    save_state, saved_states, set_aside, state_dir)

STEP = "train"


def _device(req: GptTrainRequest) -> torch.device:
    if req.device == "cuda" and not torch.cuda.is_available():
        raise StepError("Training on the GPU was asked for, but torch sees no CUDA GPU.",
                        "Set device to auto or cpu, or check the NVIDIA driver (nvidia-smi).")
    if req.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(req.device)


# The request's (Lightning-style) precision names → engine.train.runtime's.
AMP = {"auto": "auto", "32": "off", "16-mixed": "fp16", "bf16-mixed": "bf16"}


def _runtime(req: GptTrainRequest, device: torch.device, world: int = 1) -> runtime.Runtime:
    return runtime.decide(device, amp=AMP[req.precision], grad_checkpoint=req.grad_checkpoint,
                          world_size=world)


def _autocast(req: GptTrainRequest, device: torch.device, rt: runtime.Runtime | None = None):
    """(a context factory, a GradScaler or None) for the precision the runtime decided."""
    rt = rt or _runtime(req, device)
    dtype = runtime.autocast_dtype(rt)
    if dtype is None:
        return contextlib.nullcontext, None
    scaler = torch.amp.GradScaler(device.type) if rt.scaler_needed else None
    return (lambda: torch.autocast(device.type, dtype=dtype)), scaler


def _initial_model(req: GptTrainRequest) -> tuple[Text2Semantic, dict]:
    if req.pretrained:
        w = load_gpt(req.pretrained)
        return w.model, w.full_config
    cfg = GptConfig.from_upstream({**GptConfig().to_upstream(), **req.model})
    torch.manual_seed(req.seed)
    return Text2Semantic(cfg), upstream_config(cfg)


def _shape(req: GptTrainRequest, batch_size: int) -> dict:
    return {"batch_size": batch_size, "dpo": req.dpo, "accumulate": req.accumulate,
            "seed": req.seed}


class _TrainForward(torch.nn.Module):
    """``forward_train`` as ``forward`` (DDP hooks only ``forward``), the DPO pair in one
    call: DDP expects one forward per backward."""

    def __init__(self, model: Text2Semantic) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Batch, rejected: tuple | None = None):  # noqa: ANN201
        m = self.model
        chosen = m.forward_train(batch.phones, batch.phone_lens, batch.codes, batch.code_lens,
                                 batch.bert)
        if rejected is None:
            return chosen, None
        return chosen, m.forward_train(batch.phones, batch.phone_lens, rejected[0], rejected[1],
                                       batch.bert)


def _batch_loss(model: Text2Semantic, batch: Batch, dpo: bool, gen: torch.Generator,
                net: torch.nn.Module | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """The batch's loss and metrics; ``net`` is the (DDP-wrapped) _TrainForward, if any."""
    eos = model.cfg.EOS
    rej = losses.make_rejected(batch.codes, batch.code_lens, eos, gen) if dpo else None
    (logits, targets, valid), second = (net or _TrainForward(model))(batch, rej)
    ce = losses.ce_sum(logits, targets, valid)
    tokens = float(valid.sum())
    metrics = {"loss": float(ce.detach()), "loss_per_token": float(ce.detach()) / tokens,
               "top3_acc": losses.top3_accuracy(logits, targets, valid, eos)}
    if not dpo:
        return ce, metrics
    r_logits, r_targets, r_valid = second
    d = losses.dpo_loss(losses.sequence_logp(logits, targets, valid),
                        losses.sequence_logp(r_logits, r_targets, r_valid))
    metrics["dpo_loss"] = float(d.detach())
    metrics["loss"] = float((ce + d).detach())
    return ce + d, metrics


def run_gpt_training(req: GptTrainRequest, stop: StopToken | None = None) -> Iterator[Event]:
    validate(req)
    layout = Layout(Path(req.project_root), req.slug)
    device = _device(req)
    dist = dd.current()  # one process, or this rank of a torchrun world (engine.train.distributed)
    model, full_cfg = _initial_model(req)
    # v2Pro/v2ProPlus keep v2's GPT and phoneme table (s1v3.ckpt) but, as upstream, their own
    # logs_s1_<version>/ folder, the one the plan and Start fresh look at.
    version = req.version or ("v1" if model.cfg.phoneme_vocab_size == 512 else "v2")
    items, report = read_items(layout.exp_dir, version, req.max_sec)
    yield Log(f"GPT data: {report.usable} usable clips ({report.missing_text} without text, "
              f"{report.too_long} too long, {report.bad_rate} implausible rate, "
              f"{report.unknown_phone} unknown phonemes); {len(items)} items per epoch.")
    bs = effective_batch_size(req.batch_size, len(items), req.dpo)
    shape = _shape(req, bs)
    optimizer = ScaledAdamLite(model.parameters(), lr=req.learning_rate)
    folder = state_dir(layout.exp_dir, version)
    epoch, first_batch, gbatch, opt_steps = 0, 0, 0, 0
    saved, st = None, None
    # rank 0 tidies the folder and picks the state (setting unreadable ones aside); the
    # other ranks then read the one it picked
    states = saved_states(folder) if folder.is_dir() and dist.main else []
    for line in remove_leftovers(folder) if dist.main else []:
        yield Log(line)
    for i, path in enumerate(states):
        try:
            st = load_state(path)
        except Unreadable as why:
            moved = set_aside(path)
            nxt = f"trying {states[i + 1].name}" if i + 1 < len(states) else "no other saved state"
            yield Log(f"{why.reason[:-1]}; {nxt}; kept as {moved.name}", "warning")
            continue
        saved = path
        if i:
            yield Log(f"resuming from the previous state {layout.rel(path)} because the newer "
                      "one could not be read", "warning")
        break
    picked = dd.broadcast(str(saved) if saved else None, dist)
    if picked and not dist.main:
        saved = Path(picked)
        st = load_state(saved)
    if states and saved is None:
        raise StepError(f"None of the saved GPT training states in {layout.rel(folder)} can be "
                        "read (each was set aside as *.unreadable).",
                        f"Move {layout.rel(folder)} aside to start this GPT training afresh.")
    if st is not None:
        if st.config.get("model") != model.cfg.to_upstream():
            raise StepError(f"The saved GPT training in {saved.parent} is for a different model "
                            "architecture than the one chosen now.",
                            f"Pick the same pretrained GPT, or delete {saved.parent} to start over.")
        if st.shape != shape:
            changed = ", ".join(k for k in shape if st.shape.get(k) != shape[k])
            raise StepError(f"The saved GPT training used different settings ({changed}).",
                            f"Set them back to continue, or delete {saved.parent} to start over.")
        model.load_state_dict(st.model)
        optimizer.load_state_dict(st.optimizer)
        full_cfg = st.config
        epoch, first_batch, gbatch, opt_steps = st.epoch, st.batch, st.global_batch, st.opt_steps
        first_batch = dd.rescale(first_batch, st.world, dist,
                                 len(epoch_batches(items, bs, req.seed, epoch, dist)))
        yield Log(f"Resuming GPT training from {saved.name} (epoch {epoch + 1}, batch "
                  f"{first_batch + 1}).")
    full_cfg = {**full_cfg, "train": {**full_cfg.get("train", {}), "exp_name": req.slug,
                                      "epochs": req.epochs, "batch_size": req.batch_size,
                                      "save_every_n_epoch": req.save_every, "if_dpo": req.dpo}}
    if epoch >= req.epochs:
        yield Result(f"GPT training already finished ({epoch} epochs).", {"epochs": epoch})
        return
    rt = _runtime(req, device, dist.world)
    for note in rt.notes:
        yield Log(f"GPT: {note}")
    runtime.apply(rt, model)  # TF32 on Ampere+ (as upstream's s1_train), checkpointing
    model.to(device).train()
    optimizer.load_state_dict(optimizer.state_dict())  # moves moments next to the parameters
    # DDP averages the gradients over the ranks; states and exports use the bare model, so
    # the files are the single-process ones whatever the world size
    net = dd.wrap(_TrainForward(model), dist, device)
    unsynced = False  # gradients gathered under no_sync, not yet averaged
    autocast, scaler = _autocast(req, device, rt)
    per_epoch = len(epoch_batches(items, bs, req.seed, 0, dist))
    total = req.epochs * per_epoch
    exports: list[str] = []
    pending, done_here, t_start, bad_run = 0, 0, time.perf_counter(), 0
    gpu = GpuMeter(device)

    def diverged(ep: int, what: str) -> StepError:
        last = f"the last saved state is {layout.rel(saved)}" if saved else "nothing was saved yet"
        return StepError(f"GPT training diverged at epoch {ep + 1}: {what} was not a number for "
                         f"{bad_run} batches in a row.",
                         f"Nothing was learned or saved from them; {last}. Lower the learning "
                         "rate or use precision 32, then train again.")

    def opt_step() -> bool:
        """Apply the gathered gradients; False when they were not finite (then dropped)."""
        nonlocal pending, opt_steps, unsynced
        if pending == 0:
            return True
        if unsynced:
            dd.average_grads(model.parameters(), dist)
            unsynced = False
        if scaler is None and not _finite_grads(model):
            optimizer.zero_grad(set_to_none=True)
            pending = 0
            return False
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        pending, opt_steps = 0, opt_steps + 1
        return True

    def snapshot(ep: int, b: int) -> Path:
        nonlocal saved
        if dist.main:  # every rank holds the same weights; one writes them
            saved = save_state(folder, TrainState(ep, b, gbatch, opt_steps, model.state_dict(),
                                                  optimizer.state_dict(), full_cfg, shape,
                                                  world=dist.world), keep=saved)
        return saved or folder

    for ep in range(epoch, req.epochs):
        batches = epoch_batches(items, bs, req.seed, ep, dist)
        start = first_batch if ep == epoch else 0
        fed = epoch_loader(items, batches, partial(collate, bert_dir=layout.exp_dir / "3-bert",
                                                   eos=model.cfg.EOS), rt, start)
        for bi in range(start, len(batches)):
            # all ranks stop at the same batch (a SIGTERM may reach only one of them)
            if dd.any_rank(stop is not None and stop.requested, dist, device) or \
                    (req.max_batches and done_here >= req.max_batches):
                opt_step()
                path = snapshot(ep, bi)
                yield Log(f"GPT training paused at epoch {ep + 1}, batch {bi + 1}; state saved "
                          f"to {layout.rel(path)}. Run it again to continue.")
                yield Result("GPT training stopped; it resumes where it stopped.",
                             {"stopped": True, "epoch": ep, "batch": bi, "exports": exports})
                return
            t0 = time.perf_counter()
            # per rank: each draws its own dropout and DPO spans (rank 0 = a single process)
            torch.manual_seed(req.seed * 1_000_003 + gbatch + 7_777_777 * dist.rank)
            gen = torch.Generator().manual_seed(req.seed * 7_919 + gbatch + 7_777_777 * dist.rank)
            batch = next(fed).to(device)  # batches[bi], loaded ahead by workers on a GPU
            # the batch that fills the accumulation (or ends the epoch) averages in backward;
            # the ones before it only gather (no_sync), opt_step averages what they left
            syncs = pending + 1 >= req.accumulate or bi + 1 == len(batches)
            quiet = net.no_sync() if dist.on and not syncs else contextlib.nullcontext()
            with quiet:
                with autocast():
                    loss, metrics = _batch_loss(model, batch, req.dpo, gen, net)
                finite = not dd.any_rank(not math.isfinite(metrics["loss"]), dist, device)
                if finite:
                    (scaler.scale(loss) if scaler is not None else loss).backward()
                    pending += 1
                    unsynced = not syncs  # a synced backward averaged all of it
            del loss
            gbatch, done_here = gbatch + 1, done_here + 1
            if finite and pending >= req.accumulate:
                finite = opt_step()
                what = "the gradient"
            else:
                what = "the loss"
            if not finite:
                bad_run += 1
                yield Log(f"GPT epoch {ep + 1} batch {bi + 1}: {what} is not a number; skipped "
                          f"({bad_run} in a row, stopping at {req.bad_step_limit})", "warning")
                if bad_run >= req.bad_step_limit:
                    raise diverged(ep, what)
                metrics = {}  # NaN has no place in metrics (job logs are JSON)
            else:
                bad_run = 0
            sec = time.perf_counter() - t0
            done = ep * per_epoch + bi + 1
            rate = (time.perf_counter() - t_start) / done_here
            yield Progress(STEP, done, total, eta_s=rate * (total - done),
                           message=f"GPT epoch {ep + 1}/{req.epochs}",
                           metrics={**metrics, "epoch": ep + 1, "step": gbatch,
                                    "lr": req.learning_rate, "s_per_step": sec,
                                    "epochs": req.epochs, "steps_per_epoch": per_epoch,
                                    "batch_size": bs, **gpu.metrics()})
        if not opt_step():
            yield Log(f"GPT epoch {ep + 1}: the last gradients were not finite; skipped", "warning")
        # Export before saving the state: a kill in between then redoes the export on resume.
        if dist.main and ((ep + 1) % req.save_every == 0 or ep + 1 == req.epochs):
            path = export_gpt(model, layout.gpt_weights_dir, req.slug, ep + 1, full_cfg)
            exports.append(layout.rel(path))
            yield Artifact(layout.rel(path), kind="gpt_weights")
            yield Log(f"Exported GPT weights {layout.rel(path)}.")
        snapshot(ep + 1, 0)
    yield Result(f"GPT trained for {req.epochs} epochs; weights in {layout.rel(layout.gpt_weights_dir)}.",
                 {"epochs": req.epochs, "exports": exports, "steps": gbatch})


def _finite_grads(model: torch.nn.Module) -> bool:
    norms = [torch.linalg.vector_norm(p.grad.detach().float()) for p in model.parameters()
             if p.grad is not None]
    return not norms or bool(torch.isfinite(torch.stack(norms).sum()))


__all__ = ["run_gpt_training", "GptTrainRequest"]
