"""SoVITS fine-tuning (upstream's s2_train for v1/v2/v2Pro/v2ProPlus; Pro feeds each clip's
7-sv_cn speaker embedding and uses the 7-period discriminator): AdamW with the text modules at a lower
rate, per-epoch exponential decay, LSGAN + feature matching + mel-L1 x45 + KL, 32-frame slices,
frozen quantizer and ssl_proj, bucketed batches, fp16 autocast on GPU. Resumes from the newest
readable checkpoint pair in ``logs/<slug>/logs_s2_<ver>/`` by itself (see checkpoints.py);
stops after the current step on request. Unlike upstream, the last epoch is always saved even
when it is not a multiple of ``save_every_epoch`` (otherwise its training would be lost), and
a step whose loss or gradients are not finite is skipped (no optimizer update), so a diverging
run never writes a poisoned model over a good one: after ``bad_step_limit`` such steps in a
row it stops with a sentence, the last good checkpoint untouched."""
from __future__ import annotations

import math
import time
from functools import partial
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F

from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.layout import Layout
from engine.models.sovits.audio import mel_spectrogram, spec_to_mel
from engine.models.sovits.checkpoint import export_sovits, load_weights, read_sovits_file
from engine.models.sovits.config import HOP, SovitsConfig
from engine.models.sovits.discriminator import MultiPeriodDiscriminator, periods_for
from engine.models.sovits.synthesizer import Synthesizer
from engine.settings import non_defaults, validate
from engine.train import distributed as dd
from engine.train import runtime
from engine.train.gpu import GpuMeter
from engine.train.loader import epoch_loader, to_device
from engine.train.sovits import checkpoints as ck
from engine.train.sovits.data import ClipDataset, collate, epoch_batches, scan_experiment
from engine.train.sovits.losses import discriminator_loss, feature_loss, generator_loss, kl_loss
from engine.train.sovits.request import SovitsTrainRequest

STEP_ID = "train"
C_MEL, C_KL = 45.0, 1.0


def _device(req: SovitsTrainRequest) -> torch.device:
    if req.device == "cuda" or (req.device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise StepError("device = cuda but no CUDA GPU is visible.", "Set device to auto or cpu.")
        return torch.device("cuda")
    return torch.device("cpu")


def _optimizers(net_g: Synthesizer, net_d: torch.nn.Module, req: SovitsTrainRequest):
    slow = [net_g.enc_p.text_embedding, net_g.enc_p.encoder_text, net_g.enc_p.mrte]
    slow_ids = {id(p) for m in slow for p in m.parameters()}
    base = [p for p in net_g.parameters() if id(p) not in slow_ids and p.requires_grad]
    lr, low = req.learning_rate, req.learning_rate * req.text_low_lr_rate
    groups = [{"params": base, "lr": lr}] + [{"params": list(m.parameters()), "lr": low} for m in slow]
    kw = dict(betas=(0.8, 0.99), eps=1e-9)
    optim_g = torch.optim.AdamW(groups, lr, **kw)
    optim_d = torch.optim.AdamW(net_d.parameters(), lr, **kw)
    bases = ([g["lr"] for g in optim_g.param_groups], [g["lr"] for g in optim_d.param_groups])
    return optim_g, optim_d, bases


def _set_lr(opt: torch.optim.Optimizer, bases: list[float], decay: float, epoch: int) -> None:
    # upstream's ExponentialLR is stepped once before epoch 1, so epoch e runs at base*decay^e
    for g, b in zip(opt.param_groups, bases):
        g["lr"] = b * decay ** epoch


def _model_config(req: SovitsTrainRequest, pretrained_cfg: SovitsConfig | None) -> SovitsConfig:
    cfg = pretrained_cfg or SovitsConfig(version=req.version)
    cfg = SovitsConfig.from_dict({**cfg.to_dict(), **req.model_config}, version=req.version)
    cfg.check()
    return cfg


def _slice(x: torch.Tensor, starts: torch.Tensor, size: int) -> torch.Tensor:
    return torch.stack([x[i, :, s: s + size] for i, s in enumerate(starts.tolist())])


def run_sovits_training(req: SovitsTrainRequest, stop: StopToken | None = None) -> Iterator[Event]:
    validate(req)
    if req.threads:
        torch.set_num_threads(req.threads)
    layout = Layout(Path(req.project_root), req.slug)
    device = _device(req)
    dist = dd.current()  # one process, or this rank of a torchrun world (engine.train.distributed)
    rt = runtime.decide(device, amp=req.amp if req.fp16 else "off",
                        grad_checkpoint=req.grad_checkpoint, world_size=dist.world)
    use_amp, amp_dtype = rt.amp != "off", runtime.autocast_dtype(rt)
    for note in rt.notes:
        yield Log(f"SoVITS: {note}")
    torch.manual_seed(req.seed + dist.rank)  # each rank slices its clips differently

    clips, skipped = scan_experiment(layout.exp_dir, req.version)
    for line in skipped:
        yield Log(f"skipped {line}", "warning")
    dataset = ClipDataset(clips)
    steps_per_epoch = len(epoch_batches(clips, req.batch_size, 1, req.seed, req.min_items_per_epoch,
                                        dist))
    total = steps_per_epoch * req.epochs

    folder = ck.ckpt_dir(layout.exp_dir, req.version)
    book = ck.Checkpoints(folder)
    pair = None
    if dist.main:  # rank 0 tidies the folder and picks the pair; the others read that pair
        yield from book.start()
        pair = yield from book.resume(layout.rel)
    chosen = dd.broadcast(pair.entry if pair else None, dist)
    if chosen is not None and not dist.main:
        pair = ck.load_entry(folder, chosen)
    pre_g = read_sovits_file(req.pretrained_g, req.version) if (req.pretrained_g and not pair) else None
    base_cfg = pre_g.config if pre_g else None
    if pair:  # a resumed run keeps the model shape it was started with
        g, d = pair.g, pair.d
        stored = g.get("gsv", {}).get("model_config") if isinstance(g.get("gsv"), dict) else None
        base_cfg = SovitsConfig.from_dict(stored, version=req.version) if stored else None
    cfg = _model_config(req, base_cfg)
    net_g = Synthesizer(cfg).to(device)
    net_d = MultiPeriodDiscriminator(periods_for(req.version), width=req.disc_width).to(device)
    optim_g, optim_d, bases = _optimizers(net_g, net_d, req)
    scaler = torch.amp.GradScaler("cuda", enabled=rt.scaler_needed)  # bf16 needs none
    state = ck.TrainState()
    meta = {"version": req.version, "model_config": cfg.to_dict(), "disc_width": req.disc_width,
            "settings": non_defaults(req), "world_size": dist.world}

    if pair:
        g_name = pair.entry.g
        ck.check_compatible(g, req.version, cfg.to_dict(), g_name)
        load_weights(net_g, g["model"], g_name)
        try:
            net_d.load_state_dict(d["model"])
        except RuntimeError:
            raise StepError(f"The discriminator checkpoint beside {g_name} has another shape.",
                            "Use the disc_width it was trained with, or move its logs_s2 folder "
                            "aside.") from None
        if g.get("optimizer"):
            optim_g.load_state_dict(g["optimizer"])
        if d.get("optimizer"):
            optim_d.load_state_dict(d["optimizer"])
        if isinstance(g.get("gsv"), dict) and g["gsv"].get("scaler"):
            scaler.load_state_dict(g["gsv"]["scaler"])
        state = ck.state_from(g, steps_per_epoch)
        saved_world = int(g["gsv"].get("world_size", 1)) if isinstance(g.get("gsv"), dict) else 1
        state.batch_in_epoch = dd.rescale(state.batch_in_epoch, saved_world, dist, steps_per_epoch)
        # steps so far were counted at the saved world size; count the rest at this one
        total = state.step + steps_per_epoch * (req.epochs - state.epoch + 1) - state.batch_in_epoch
        yield Log(f"resumed from {layout.rel(folder / g_name)}: epoch {state.epoch}, step {state.step}")
        del g, d, pair  # the loaded tensors now live in the models
    else:
        if pre_g:
            load_weights(net_g, pre_g.weights, pre_g.path.name)
            yield Log(f"generator initialised from {pre_g.path.name}")
        else:
            yield Log("no pretrained generator: starting from random weights", "warning")
        if req.pretrained_d:
            yield from _load_pretrained_d(net_d, Path(req.pretrained_d))
    net_g.to(device)
    # DDP averages gradients over the ranks; saving and exporting use the bare modules, so
    # the files are the single-process ones (no 'module.' prefix) whatever the world size.
    if dist.on and cfg.freeze_quantizer:  # run under no_grad: DDP must not wait for their grads
        for p in (*net_g.ssl_proj.parameters(), *net_g.quantizer.parameters()):
            p.requires_grad_(False)
    runtime.apply(rt, net_g)
    ddp_g, ddp_d = dd.wrap(net_g, dist, device), dd.wrap(net_d, dist, device)

    def last_good() -> str:
        e = book.kept[0] if book.kept else None
        return (f"the last good checkpoint is {layout.rel(folder / e.g)} (step {e.step})" if e
                else "no checkpoint was saved yet")

    def save(epoch_done: bool) -> Iterator[Event]:
        if not (_finite_weights(net_g) and _finite_weights(net_d)):
            good = last_good()
            raise StepError(f"SoVITS training diverged before step {state.step}: the model's "
                            "weights are no longer numbers, so they were not saved.",
                            f"{good[0].upper()}{good[1:]}. Lower the learning rate"
                            f"{' or turn fp16 off' if use_amp else ''}, then train again.")
        if not dist.main:
            return
        # Export before the pair: a failure in between redoes the export on resume.
        if epoch_done and req.export_every_save:
            w = export_sovits(net_g, layout.sovits_weights_dir, req.slug, state.epoch - 1, state.step,
                              {"epochs": req.epochs, "batch_size": req.batch_size,
                               "text_low_lr_rate": req.text_low_lr_rate,
                               "save_every_epoch": req.save_every_epoch},
                              layout.rel(layout.exp_dir))
            yield Artifact(layout.rel(w), "sovits-weights")
            yield Log(f"saving ckpt {req.slug}_e{state.epoch - 1}: {w.name}")
        try:
            g_path = book.save(net_g, net_d, optim_g, optim_d, scaler.state_dict(), state, meta,
                               req.save_latest_only)
        except StepError:
            yield Log(f"checkpoint of step {state.step} not saved; nothing half-written is left "
                      f"and {last_good()}", "error")
            raise
        yield Artifact(layout.rel(g_path), "sovits-train-checkpoint")

    sec_per_step, last_mel, bad_run = None, float("nan"), 0
    gpu = GpuMeter(device)
    shape = {"epochs": float(req.epochs), "steps_per_epoch": float(steps_per_epoch),
             "batch_size": float(req.batch_size)}
    mel_frames = cfg.segment_frames
    while state.epoch <= req.epochs:
        epoch = state.epoch
        _set_lr(optim_g, bases[0], req.lr_decay, epoch)
        _set_lr(optim_d, bases[1], req.lr_decay, epoch)
        net_g.train()
        net_d.train()
        batches = epoch_batches(clips, req.batch_size, epoch, req.seed, req.min_items_per_epoch,
                                dist)
        start = state.batch_in_epoch
        fed = epoch_loader(dataset, batches, partial(collate, min_frames=mel_frames), rt, start)
        for bi, cpu_batch in zip(range(start, len(batches)), fed):
            t0 = time.perf_counter()
            b = to_device(cpu_batch, device, non_blocking=rt.pin_memory)
            losses, bad = _train_step(ddp_g, ddp_d, optim_g, optim_d, scaler, b, amp_dtype,
                                      mel_frames, dist)
            state.step += 1
            state.batch_in_epoch = bi + 1
            dt = time.perf_counter() - t0
            sec_per_step = dt if sec_per_step is None else 0.9 * sec_per_step + 0.1 * dt
            if bad:
                bad_run += 1
                yield Log(f"epoch {epoch} step {state.step}: {bad} is not a number; step skipped "
                          f"({bad_run} in a row, stopping at {req.bad_step_limit})", "warning")
                if bad_run >= req.bad_step_limit:
                    raise StepError(
                        f"SoVITS training diverged: the loss was not a number for {bad_run} steps "
                        f"in a row (epoch {epoch}, step {state.step}).",
                        f"Nothing was learned or saved from those steps; {last_good()}. Lower "
                        f"the learning rate{' or turn fp16 off' if use_amp else ''}, check the "
                        "data set, then train again.")
                losses = {}  # NaN has no place in metrics (job logs are JSON)
            else:
                bad_run = 0
                last_mel = losses["loss_mel"]
            metrics = dict(losses, epoch=float(epoch), lr=optim_g.param_groups[0]["lr"],
                           s_per_step=sec_per_step, **shape, **gpu.metrics())
            yield Progress(STEP_ID, state.step, total, sec_per_step * (total - state.step),
                           f"SoVITS epoch {epoch}/{req.epochs}", metrics)
            if state.step % req.log_every == 0 and losses:
                yield Log(f"epoch {epoch} step {state.step}: " +
                          " ".join(f"{k} {v:.4g}" for k, v in losses.items()))
            # every rank stops at the same step (a SIGTERM may reach only one of them)
            if dd.any_rank(stop is not None and stop.requested, dist, device) and state.step < total:
                yield from save(epoch_done=False)
                yield Log(f"stopped after step {state.step}; training resumes from here")
                yield Result(f"SoVITS training stopped at step {state.step} of {total}",
                             {"stopped": True, "step": state.step, "total": total})
                return
        state.epoch, state.batch_in_epoch = epoch + 1, 0
        yield Log(f"====> Epoch: {epoch}")
        if epoch % req.save_every_epoch == 0 or epoch == req.epochs:
            yield from save(epoch_done=True)
    exported = sorted(layout.sovits_weights_dir.glob(f"{req.slug}_e*_s*.pth"),
                      key=lambda p: p.stat().st_mtime)
    yield Result(f"SoVITS training finished: {state.step} steps, {req.epochs} epochs",
                 {"stopped": False, "step": state.step, "total": total, "loss_mel": last_mel,
                  "weights": layout.rel(exported[-1]) if exported else ""})


def _load_pretrained_d(net_d: torch.nn.Module, path: Path) -> Iterator[Event]:
    if not path.is_file():  # a G without its D still fine-tunes; the D just starts fresh
        yield Log(f"no pretrained discriminator at {path}: starting it from random weights",
                  "warning")
        return
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
        sd = obj.get("weight") or obj.get("model")
    except Exception as exc:
        raise StepError(f"The pretrained discriminator {path.name} cannot be read ({type(exc).__name__}).",
                        "Pick s2D*.pth from the pretrained models, or leave it empty.") from None
    own = net_d.state_dict()
    fit = {k: v.float() for k, v in sd.items() if k in own and own[k].shape == v.shape}
    net_d.load_state_dict(fit, strict=False)
    yield Log(f"discriminator initialised from {path.name} ({len(fit)}/{len(own)} tensors)")


def _finite_weights(net: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in net.parameters())


def _finite_grads(net: torch.nn.Module) -> bool:
    norms = [torch.linalg.vector_norm(p.grad.detach().float()) for p in net.parameters()
             if p.grad is not None]
    return not norms or bool(torch.isfinite(torch.stack(norms).sum()))


def _train_step(net_g, net_d, optim_g, optim_d, scaler, b, amp: torch.dtype | None,
                seg: int, dist: dd.Dist = dd.SINGLE) -> tuple[dict[str, float], str]:
    """One D update then one G update. Returns the losses and "" or, when a loss (or, without
    the fp16 scaler, which skips inf gradients itself, a gradient) is not finite, the name of
    what was not: that update is skipped. Under DDP the nets are wrapped (gradients are
    averaged, so gradient checks agree by themselves) and a non-finite loss on any rank
    skips the update on all of them."""
    dev = b["spec"].device.type
    use_amp, scaled = amp is not None, scaler.is_enabled()
    with torch.autocast(dev, dtype=amp or torch.float16, enabled=use_amp):
        out = net_g(b["ssl"], b["spec"], b["spec_lengths"], b["text"], b["text_lengths"],
                    sv_emb=b.get("sv"))
    y_hat = out.audio.float()
    mel = spec_to_mel(b["spec"])
    y_mel = _slice(mel, out.slice_starts, seg)
    y_hat_mel = mel_spectrogram(y_hat.squeeze(1))
    y = _slice(b["wav"], out.slice_starts * HOP, seg * HOP)

    with torch.autocast(dev, dtype=amp or torch.float16, enabled=use_amp):
        real, fake, _, _ = net_d(y, y_hat.detach())
        loss_disc = discriminator_loss(real, fake)
    if dd.any_rank(not math.isfinite(float(loss_disc.detach())), dist, loss_disc.device):
        return {}, "loss_disc"  # no update at all this step
    optim_d.zero_grad(set_to_none=True)
    scaler.scale(loss_disc).backward()
    if not scaled and not _finite_grads(net_d):
        optim_d.zero_grad(set_to_none=True)
        return {}, "the discriminator's gradient"
    scaler.step(optim_d)

    with torch.autocast(dev, dtype=amp or torch.float16, enabled=use_amp):
        real, fake, fmap_r, fmap_g = net_d(y, y_hat)
        loss_mel = F.l1_loss(y_mel, y_hat_mel) * C_MEL
        loss_kl = kl_loss(out.z_p, out.logs_q, out.m_p, out.logs_p, out.mask) * C_KL
        loss_fm = feature_loss(fmap_r, fmap_g)
        loss_gen = generator_loss(fake)
        total = loss_gen + loss_fm + loss_mel + loss_kl + out.commit_loss
    named = {"loss_disc": loss_disc, "loss_gen": loss_gen, "loss_fm": loss_fm,
             "loss_mel": loss_mel, "loss_kl": loss_kl, "loss_total": total}
    values = {k: float(v.detach()) for k, v in named.items()}
    optim_g.zero_grad(set_to_none=True)
    bad = next((k for k, v in values.items() if not math.isfinite(v)), "")
    if dd.any_rank(bool(bad), dist, total.device):
        bad = bad or "a loss on another training process"
    if not bad:
        scaler.scale(total).backward()
        if not scaled and not _finite_grads(net_g):
            optim_g.zero_grad(set_to_none=True)
            bad = "the generator's gradient"
        else:
            scaler.step(optim_g)
    scaler.update()  # D stepped through the scaler either way
    return values, bad
