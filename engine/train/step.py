"""The wizard's Train step: SoVITS first, then GPT, in one job (they cannot share one GPU).

It resolves the pretrained bases (engine.hub), picks batch sizes with engine.train.plan's rule
(yours, the probe's answer for this card, else upstream's half-the-GB), and forwards both
trainers' events; a CUDA out-of-memory error becomes a sentence naming the batch size to use
and the longest clips. Each trainer resumes from its own newest checkpoint, so re-running
the step continues; a stop request (SIGTERM to a job, Ctrl-C or SIGTERM inline) saves first.
``then`` names a command to run once the whole run has finished (engine.jobs.then).
With several GPUs (or CPU processes) each stage runs under torchrun as this process's child
(engine.train.launch) and rank 0's events are forwarded; with ``side_by_side`` the two
stages run at once on disjoint GPU sets."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from engine.events import Event, Failed, Log, Result, StepError, StopToken
from engine.settings import knob

STAGES = ("both", "sovits", "gpt")
# The Train step's precision names → the GPT trainer's (Lightning-style) ones.
GPT_PRECISION = {"auto": "auto", "fp16": "16-mixed", "bf16": "bf16-mixed", "off": "32"}


@dataclass
class TrainRequest:
    project_root: str
    stages: str = knob("both", "What to train: SoVITS then GPT, or only one of them",
                       choices=STAGES)
    sovits_epochs: int = knob(8, "SoVITS passes over the data (upstream default 8)", min=1, max=25)
    sovits_batch_size: int = knob(0, "SoVITS clips per step (0: half the GPU's GB)", min=0, max=64)
    gpt_epochs: int = knob(15, "GPT passes over the data (upstream default 15)", min=2, max=50)
    gpt_batch_size: int = knob(0, "GPT utterances per batch (0: half the GPU's GB)", min=0, max=40)
    dpo: bool = knob(False, "GPT: also train against made-up bad readings (experimental)",
                     label="GPT DPO (experimental)")
    device: str = knob("auto", "Where to train", choices=("auto", "cpu", "cuda"))
    gpus: str = knob("", "GPUs to train on, by nvidia-smi's numbers (e.g. 0,1): one training "
                         "process per GPU (DistributedDataParallel; the batch size is per GPU); "
                         "empty: all visible GPUs", label="GPUs")
    processes: int = knob(1, "On CPU: training processes (2+ trains distributed over gloo, "
                             "like several GPUs; rarely faster on one CPU)", min=1, max=64,
                          label="CPU processes")
    side_by_side: bool = knob(False, "With 2+ GPUs: train SoVITS and GPT at the same time, "
                                     "each on its own half of the GPUs (never both on one)",
                              label="Stages side by side")
    precision: str = knob("auto", "Mixed precision on a GPU: auto = fp16 with a gradient scaler "
                                  "(upstream); bf16 on cards that have it (Ampere or newer); "
                                  "off = 32-bit", choices=("auto", "fp16", "bf16", "off"),
                          label="Mixed precision")
    grad_checkpoint: str = knob("auto", "Recompute activations in the backward pass to save GPU "
                                        "memory, at ~30 % more time per step (auto: on cards "
                                        "under 10 GB)", choices=("auto", "on", "off"),
                                label="Gradient checkpointing")
    probe_batch: bool = knob(False, "Batch size 0 on a GPU: first find the largest batch that "
                                    "fits (a few trial steps on the longest clips); remembered "
                                    "per card", label="Probe batch size")
    allow_download: bool = knob(True, "Download missing pretrained bases (off: local only)",
                                label="Allow downloads")
    then: list = knob([], "A command to run when both stages have finished, e.g. poweroff "
                          "(an argument list, no shell)", label="Then run")
    then_on_failure: bool = knob(False, "Run that command after a failed run too",
                                 label="Then, also on failure")
    then_delay_s: float = knob(60.0, "Countdown before that command runs (cancellable)",
                               min=0.0, max=3600.0, unit="s", label="Then, after")
    sovits: dict[str, Any] = field(default_factory=dict)  # advanced SovitsTrainRequest fields
    gpt: dict[str, Any] = field(default_factory=dict)  # advanced GptTrainRequest fields


def _stage(events: Iterator[Event], name: str, batch: int, exp: Path) -> Iterator[Event]:
    """Forward a trainer's events; its Result becomes a log line, its Failure ends the step,
    and running out of GPU memory becomes the sentence that says what to lower."""
    from engine.train.failure import is_oom, oom_error
    from engine.train.plan import data_summary

    try:
        for ev in events:
            if isinstance(ev, Result):
                yield Log(f"{name}: {ev.summary}")
            elif isinstance(ev, Failed):
                raise StepError(f"{name} training failed: {ev.reason}", ev.hint)
            else:
                yield ev
    except Exception as exc:
        if isinstance(exc, StepError) or not is_oom(exc):
            raise
        yield Log(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0]}", "error")
        raise oom_error(name, batch, data_summary(exp)) from None


def _probed(stage: str, sub: Any, device: Any, exp: Path) -> Iterator[Event]:
    """The stage's request with the probe's batch size (GPU only; CPU keeps its own)."""
    import dataclasses

    if device.kind != "cuda":
        yield Log(f"{stage}: no batch-size probe on CPU; batch {sub.batch_size}")
        return sub
    import torch

    from engine.train.failure import oom_error
    from engine.train.plan import data_summary
    from engine.train.probe_trials import probe_stage

    size = yield from probe_stage(stage, sub, torch.device("cuda"), device.name, device.memory_gb,
                                  start=sub.batch_size)
    if not size:
        raise oom_error(stage, 1, data_summary(exp))
    return dataclasses.replace(sub, batch_size=size)


def _pretrained(spec, filename: str, allow_download: bool) -> Iterator[Event]:
    from engine.hub import ensure_model

    folder = yield from ensure_model(spec, allow_download=allow_download, step="train")
    return str(Path(folder) / filename)


def _sovits_request(req: TrainRequest, project: Any, device: Any) -> Iterator[Event]:
    from engine.train import pretrained as pre
    from engine.train.plan import SOVITS, choose_batch
    from engine.train.sovits.request import SovitsTrainRequest

    exp, version = project.layout.exp_dir, project.version
    fields = dict(req.sovits)
    if "pretrained_g" not in fields:
        g_name, d_name = pre.SOVITS_FILES[version]
        fields["pretrained_g"] = yield from _pretrained(pre.SOVITS_BASE[version], g_name,
                                                        req.allow_download)
        fields["pretrained_d"] = str(Path(fields["pretrained_g"]).with_name(d_name))
    fields.setdefault("epochs", req.sovits_epochs)
    batch = choose_batch(SOVITS, fields.get("batch_size") or req.sovits_batch_size, device, exp)
    fields.setdefault("batch_size", batch.size)
    fields.setdefault("device", req.device)
    fields.setdefault("amp", req.precision)
    fields.setdefault("grad_checkpoint", req.grad_checkpoint)
    sreq = SovitsTrainRequest(project_root=str(project.root), slug=project.slug,
                              version=version, **fields)
    if req.probe_batch and batch.source in ("card", "cpu"):
        sreq = yield from _probed(SOVITS, sreq, device, exp)
    yield Log(f"SoVITS: {sreq.epochs} epochs, batch {sreq.batch_size} ({batch.why})")
    return sreq


def _gpt_request(req: TrainRequest, project: Any, device: Any) -> Iterator[Event]:
    from engine.train import pretrained as pre
    from engine.train.gpt.request import GptTrainRequest
    from engine.train.plan import GPT, choose_batch

    exp, version = project.layout.exp_dir, project.version
    fields = dict(req.gpt)
    if "pretrained" not in fields:
        fields["pretrained"] = yield from _pretrained(pre.GPT_BASE[version], pre.GPT_FILE[version],
                                                      req.allow_download)
    fields.setdefault("epochs", req.gpt_epochs)
    batch = choose_batch(GPT, fields.get("batch_size") or req.gpt_batch_size, device, exp)
    fields.setdefault("batch_size", batch.size)
    fields.setdefault("dpo", req.dpo)
    fields.setdefault("version", version)
    fields.setdefault("device", req.device)
    fields.setdefault("precision", GPT_PRECISION[req.precision])
    fields.setdefault("grad_checkpoint", req.grad_checkpoint)
    greq = GptTrainRequest(project_root=str(project.root), slug=project.slug, **fields)
    if req.probe_batch and batch.source in ("card", "cpu"):
        greq = yield from _probed(GPT, greq, device, exp)
    yield Log(f"GPT: {greq.epochs} epochs, batch {greq.batch_size} ({batch.why})"
              + (", DPO" if greq.dpo else ""))
    return greq


def _launch(name: str, sub: Any, place: Any, layout: Any) -> Any:
    from engine.steplock import lock_path
    from engine.train.launch import Launch

    folder = layout.runs_dir / "train" / "ddp" / name.lower()
    return Launch(name, name.lower(), sub, place, folder, layout.rel(folder),
                  lock=lock_path(layout.root, "train"))


def _launched(name: str, sub: Any, place: Any, layout: Any, stop: StopToken) -> Iterator[Event]:
    """One stage under torchrun: rank 0's events, then why it ended if it did not say."""
    from engine.train.launch import run_stages

    x = _launch(name, sub, place, layout)
    for _, ev in run_stages([x], stop):
        yield ev
    if x.error is not None:
        raise x.error


def _side_by_side(subs: list[tuple[str, Any, Any]], layout: Any, stop: StopToken) -> Iterator[Event]:
    """SoVITS and GPT at once on disjoint GPU sets; a failure of either stops the other
    (it saves) and is raised once both have ended."""
    from engine.train.failure import is_oom, oom_error
    from engine.train.launch import run_stages
    from engine.train.plan import data_summary

    launches = [_launch(name, sub, place, layout) for name, sub, place in subs]
    failed: list[tuple[str, Failed]] = []
    for x, ev in run_stages(launches, stop):
        if isinstance(ev, Result):
            yield Log(f"{x.name}: {ev.summary}")
        elif isinstance(ev, Failed):
            failed.append((x.name, ev))
        else:
            yield ev
    if failed:
        name, ev = failed[0]
        raise StepError(f"{name} training failed: {ev.reason}", ev.hint)
    for x, (_, sub, _) in zip(launches, subs):
        if x.error is not None:
            if is_oom(x.error):
                raise oom_error(x.name, sub.batch_size, data_summary(layout.exp_dir))
            raise x.error


def run_train(req: TrainRequest, stop: StopToken | None = None) -> Iterator[Event]:
    from engine.project import load_project
    from engine.train.launch import halves, placement, visible_gpus
    from engine.train.plan import pick_device

    stop = stop or StopToken()
    project = load_project(req.project_root)
    layout, exp = project.layout, project.layout.exp_dir
    if not (exp / "6-name2semantic.tsv").exists() or not (exp / "2-name2text.txt").exists():
        raise StepError(f"The formatted data set is missing in {project.layout.rel(exp)}.",
                        "Run the Format step first (`gsv format`).")
    device = pick_device(req.device)
    place = placement(device.kind, req.gpus, req.processes,
                      visible_gpus() if device.kind == "cuda" else [])
    pair = halves(place) if req.side_by_side and req.stages == "both" else None
    if req.side_by_side and req.stages == "both" and pair is None:
        yield Log("stages side by side need 2 or more GPUs: training SoVITS, then GPT", "warning")
    summary = []
    if pair is not None:  # the seeds' rule holds: never both stages on one GPU
        sreq = yield from _sovits_request(req, project, device)
        greq = yield from _gpt_request(req, project, device)
        yield from _side_by_side([("SoVITS", sreq, pair[0]), ("GPT", greq, pair[1])], layout, stop)
        if stop.requested:
            return
        summary = [f"SoVITS {sreq.epochs} epochs", f"GPT {greq.epochs} epochs"]
    if pair is None and req.stages in ("both", "sovits"):
        from engine.train.sovits.loop import run_sovits_training

        sreq = yield from _sovits_request(req, project, device)
        events = _launched("SoVITS", sreq, place, layout, stop) if place.distributed \
            else run_sovits_training(sreq, stop)
        yield from _stage(events, "SoVITS", sreq.batch_size, exp)
        summary.append(f"SoVITS {sreq.epochs} epochs")
        if stop.requested:
            return
    if pair is None and req.stages in ("both", "gpt"):
        from engine.train.gpt.trainer import run_gpt_training

        greq = yield from _gpt_request(req, project, device)
        events = _launched("GPT", greq, place, layout, stop) if place.distributed \
            else run_gpt_training(greq, stop)
        yield from _stage(events, "GPT", greq.batch_size, exp)
        summary.append(f"GPT {greq.epochs} epochs")
        if stop.requested:
            return
    yield Result("trained " + " and ".join(summary) + "; weights in SoVITS_weights/ and GPT_weights/",
                 {"stages": req.stages})
