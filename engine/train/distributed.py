"""Training in several processes (one per GPU, or gloo processes on CPU) under torchrun.

The worker side: the process group from torchrun's environment (RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR/PORT), NCCL on CUDA and gloo on CPU, with a timeout so a rank that
hangs without dying cannot hold the others forever (a rank that dies is torchrun's job: it
stops the rest at once). The trainers ask this module who they are (``current()``), share
every length bucket between the ranks (``share``), agree on stop/skip decisions with one
tiny all-reduce (``any_rank``) and wrap their modules in DDP (``wrap``). With one process
every helper is the identity, so a single-process run is exactly what it was.

``python -m engine.train.distributed SPEC`` is the per-rank entry torchrun starts (see
engine.train.launch): it runs one stage's trainer and rank 0 appends its events to the
spec's events file as JSON lines, which the Train step re-yields."""
from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass
from typing import Any, Sequence

TIMEOUT_ENV = "GSV_DDP_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 900.0  # rank 0 exporting a full-size model while the others wait


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:  # rank 0 logs, saves and exports
        return self.rank == 0

    @property
    def on(self) -> bool:
        return self.world > 1


SINGLE = Dist()


def current() -> Dist:
    import torch.distributed as td

    if td.is_available() and td.is_initialized():
        return Dist(td.get_rank(), td.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    return SINGLE


def init(device_type: str) -> Dist:
    """Join the process group torchrun describes; a no-op for a world of one."""
    import datetime

    import torch
    import torch.distributed as td

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or td.is_initialized():
        return current()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device_type == "cuda":
        torch.cuda.set_device(local)
    timeout = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S))
    td.init_process_group("nccl" if device_type == "cuda" else "gloo",
                          timeout=datetime.timedelta(seconds=timeout))
    return current()


def teardown() -> None:
    import torch.distributed as td

    if td.is_available() and td.is_initialized():
        td.destroy_process_group()


def share(indices: Sequence[int], d: Dist) -> list[int]:
    """This rank's share of one bucket, as upstream's distributed bucket sampler: the bucket
    is padded (repeating its first items) to a multiple of the world size, then rank r takes
    every world-th item from r. Every rank gets the same count, so batches line up."""
    idx = list(indices)
    if not d.on:
        return idx
    pad = (-len(idx)) % d.world
    idx += (idx * (pad // max(1, len(idx)) + 1))[:pad]
    return idx[d.rank::d.world]


def any_rank(flag: bool, d: Dist, device: Any) -> bool:  # noqa: ANN401 -- torch.device
    """True on every rank when it is true on any: stop requests and skipped steps must be
    decided together, or one rank would wait in a collective the others never join."""
    if not d.on:
        return flag
    import torch
    import torch.distributed as td

    t = torch.tensor([1.0 if flag else 0.0], device=device)
    td.all_reduce(t, op=td.ReduceOp.MAX)
    return bool(t.item() > 0)


def broadcast(obj: Any, d: Dist) -> Any:  # noqa: ANN401
    """Rank 0's ``obj`` on every rank (which checkpoint to resume from)."""
    if not d.on:
        return obj
    import torch.distributed as td

    box = [obj]
    td.broadcast_object_list(box, src=0)
    return box[0]


def wrap(module: Any, d: Dist, device: Any, unused: bool = False) -> Any:  # noqa: ANN401
    """The module DDP-wrapped (gradients averaged over ranks in backward), or itself."""
    if not d.on:
        return module
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index if device.index is not None else d.local_rank] \
        if device.type == "cuda" else None
    return DDP(module, device_ids=ids, find_unused_parameters=unused)


def average_grads(params: Any, d: Dist) -> None:  # noqa: ANN401
    """Average gradients gathered under DDP's no_sync (accumulation batches)."""
    if not d.on:
        return
    import torch.distributed as td

    for p in params:
        if p.grad is not None:
            td.all_reduce(p.grad, op=td.ReduceOp.SUM)
            p.grad /= d.world


def rescale(position: int, saved_world: int, d: Dist, n_batches: int) -> int:
    """A mid-epoch resume point under another world size: the same share of the epoch."""
    if saved_world == d.world or position <= 0:
        return position
    return min(n_batches, round(position * saved_world / d.world))


def _die_with_parent() -> None:
    """Linux: SIGTERM when torchrun goes (so an orphaned rank saves and stops, never trains
    on alone); torchrun runs each rank in its own session, out of reach of killpg."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(spec_path: str) -> int:
    from engine.events import Failed, Log, StepError, StopToken, event_to_dict

    spec = json.loads(open(spec_path, encoding="utf-8").read())
    parent = os.getppid()
    _die_with_parent()
    stop = StopToken()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.request())
    signal.signal(signal.SIGINT, lambda *_: stop.request())
    if os.getppid() != parent:  # torchrun went before the death signal was armed
        stop.request()
    rank = int(os.environ.get("RANK", "0"))
    out = open(spec["events"], "a", encoding="utf-8") if rank == 0 else None

    def emit(ev: Any) -> None:  # noqa: ANN401
        if out is not None:
            out.write(json.dumps(event_to_dict(ev), ensure_ascii=False) + "\n")
            out.flush()

    code = 0
    try:
        for ev in _stage_events(spec, stop):
            emit(ev)
    except StepError as exc:
        emit(Failed(exc.reason, exc.hint))
        code = 1
    except Exception as exc:  # noqa: BLE001 -- the launcher turns it into a sentence
        first = (str(exc).splitlines() or [""])[0]
        emit(Log(f"rank {rank}: {type(exc).__name__}: {first}", "error"))
        if out is not None:
            out.write(json.dumps({"crash": f"{type(exc).__name__}: {first}"}) + "\n")
            out.flush()
        print(f"rank {rank}: {type(exc).__name__}: {first}", file=sys.stderr)
        code = 1
    finally:
        teardown()
    return code


def _stage_events(spec: dict, stop: Any):  # noqa: ANN202, ANN401
    from engine.runner import request_from_dict

    if spec["stage"] == "sovits":
        from engine.train.sovits.loop import run_sovits_training as run
        from engine.train.sovits.request import SovitsTrainRequest as cls
    else:
        from engine.train.gpt.request import GptTrainRequest as cls
        from engine.train.gpt.trainer import run_gpt_training as run
    req = request_from_dict(cls, spec["request"])
    import torch

    init("cuda" if req.device != "cpu" and torch.cuda.is_available() else "cpu")
    yield from run(req, stop)


if __name__ == "__main__":
    rc = main(sys.argv[1])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)  # files are closed and synced; skipping torch's teardown saves seconds a rank
