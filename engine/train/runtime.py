"""How a training run uses the box it is on: TF32 matmuls on Ampere and newer, the mixed
precision to train in (fp16 with a GradScaler as upstream, or bf16 where the card has it),
gradient checkpointing when memory is short, and how many DataLoader workers and whether
pinned memory feed the GPU. One place decides, both trainers ask, and every choice is
logged once in words, so a user reading the job log knows what the run did and why."""
from __future__ import annotations

import os
from dataclasses import dataclass

from engine.events import StepError

# Below this much GPU memory per process, gradient checkpointing is on by default ("auto"):
# it costs ~30 % more compute per step but lets the batch the probe/plan picked fit.
SHORT_MEMORY_GB = 10.0
MAX_WORKERS = 4  # beyond this the 1A features are read faster than a GPU step consumes them


@dataclass(frozen=True)
class Runtime:
    amp: str  # "off" | "fp16" | "bf16"
    tf32: bool
    grad_checkpoint: bool
    workers: int  # DataLoader worker processes (0: load in the training process)
    pin_memory: bool
    notes: tuple[str, ...]  # the reasons, one line each, for the job log

    @property
    def scaler_needed(self) -> bool:
        return self.amp == "fp16"


def _cuda_facts(device) -> tuple[int, float, bool]:  # noqa: ANN001 -- torch.device
    """(compute capability major, memory GB, bf16 supported) of the card training runs on."""
    import torch

    index = device.index if device.index is not None else torch.cuda.current_device()
    props = torch.cuda.get_device_properties(index)
    return props.major, props.total_memory / 2**30, bool(torch.cuda.is_bf16_supported())


def decide(device, *, amp: str = "auto", grad_checkpoint: str = "auto",  # noqa: ANN001
           world_size: int = 1, cores: int | None = None,
           cuda_facts: tuple[int, float, bool] | None = None) -> Runtime:
    """The choices for a run on ``device``. ``amp``: auto (fp16 on a GPU as upstream, fp32
    on CPU) | fp16 | bf16 | off; ``grad_checkpoint``: auto (on when the card has under
    SHORT_MEMORY_GB) | on | off. ``cuda_facts`` lets tests state a card; otherwise it is
    read from torch in the job process."""
    cuda = getattr(device, "type", str(device)) == "cuda"
    notes: list[str] = []
    major, mem_gb, has_bf16 = (cuda_facts or _cuda_facts(device)) if cuda else (0, 0.0, False)

    if amp == "auto":
        amp = "fp16" if cuda else "off"
    if amp == "bf16" and cuda and not has_bf16:
        raise StepError("bf16 training was asked for, but this GPU has no bf16 support.",
                        "Use precision fp16 (upstream's choice) or auto.")
    if amp == "fp16" and not cuda:
        notes.append("fp16 mixed precision needs a GPU: training in fp32 on the CPU")
        amp = "off"
    if amp != "off":
        notes.append(f"mixed precision: {amp}" + (" with a gradient scaler" if amp == "fp16"
                                                  else " (no scaler needed)"))

    tf32 = cuda and major >= 8
    if tf32:
        notes.append(f"TF32 matmuls on (compute capability {major}.x: Ampere or newer)")

    if grad_checkpoint == "auto":
        per_process = mem_gb  # one process per GPU under DDP
        on = cuda and per_process < SHORT_MEMORY_GB
        if on:
            notes.append(f"gradient checkpointing on: {per_process:.0f} GB on this card is "
                         f"under {SHORT_MEMORY_GB:.0f} GB (slower steps, less memory)")
    else:
        on = grad_checkpoint == "on"
        if on:
            notes.append("gradient checkpointing on (asked for): slower steps, less memory")

    cores = cores or os.cpu_count() or 1
    # On CPU the workers would take cores from the training maths itself; on a GPU they
    # decode wavs and spectrograms while the card computes.
    workers = min(MAX_WORKERS, max(0, cores // max(1, world_size) - 1)) if cuda else 0
    if workers:
        notes.append(f"{workers} data-loading worker(s) per process, pinned memory")
    return Runtime(amp=amp, tf32=tf32, grad_checkpoint=on, workers=workers,
                   pin_memory=cuda, notes=tuple(notes))


def apply(rt: Runtime, *models) -> None:  # noqa: ANN002 -- torch modules
    """Switch the process and the models to what ``rt`` decided."""
    import torch

    if rt.tf32:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    for m in models:
        for sub in m.modules():
            if hasattr(sub, "grad_checkpoint"):
                sub.grad_checkpoint = rt.grad_checkpoint


def autocast_dtype(rt: Runtime):  # noqa: ANN201 -- torch.dtype | None
    import torch

    return {"fp16": torch.float16, "bf16": torch.bfloat16}.get(rt.amp)
