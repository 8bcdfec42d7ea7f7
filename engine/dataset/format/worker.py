"""One fanned-out 1A worker: an OS process of its own (forked from the fan-out's fork
server, see engine.dataset.format.fanout) that formats a contiguous share of the clips on
its own device (upstream's ``i_part`` of ``all_parts``), journals each finished clip to its
own journal, writes its part files once its share is done, and reports to the step over a
pipe of its own.

Messages (tuples, first item the kind): ``event`` (a Log to show), ``clip`` (a clip
journaled), ``sv`` (a speaker embedding written, and how many this worker has to write),
``stopped``, ``done``, ``failed`` (a StepError's sentence), ``bug`` (an unexpected error
and its traceback)."""
from __future__ import annotations

import os
import signal
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from engine.dataset.format.work import ClipWork, ModelFiles


@dataclass
class WorkerSpec:
    index: int  # the part number: its files are 2-name2text-<index>.txt ...
    count: int
    device: str  # "cpu" or "cuda:N"
    threads: int  # torch's intra-op threads here (all workers together: at most the cores)
    half: bool
    exp_root: str
    work: list[ClipWork]  # its share, in list order (clips with nothing to do included)
    files: ModelFiles = field(default_factory=ModelFiles)
    sv_model: str | None = None  # v2Pro: the speaker model, None when no embedding is due
    sv_path: str = ""
    wants_sv: bool = False
    step: str = "format"
    # The step's environment and folder now: a fork server started earlier kept its own.
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: str = field(default_factory=os.getcwd)


class _Stop:
    """StopToken-like: the step asked (shared event), we got SIGTERM (a job cancel signals
    the whole process group), or the step's process is gone."""

    def __init__(self, event) -> None:
        self._event, self._signalled = event, threading.Event()

    def request(self) -> None:
        self._signalled.set()

    @property
    def requested(self) -> bool:
        import multiprocessing

        parent = multiprocessing.parent_process()
        return (self._event.is_set() or self._signalled.is_set()
                or (parent is not None and not parent.is_alive()))


def _die_with_parent() -> None:
    """Linux: the kernel kills us when the step's process dies, so no orphan keeps writing
    after the step lock is gone."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(spec: WorkerSpec, conn, stop_event) -> None:
    _die_with_parent()
    os.environ.clear()
    os.environ.update(spec.env)
    os.chdir(spec.cwd)
    stop = _Stop(stop_event)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a dropped SSH session
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the step's to handle
    signal.signal(signal.SIGTERM, lambda *_: stop.request())
    try:
        for message in _run(spec, stop):
            conn.send(message)
    except BaseException as exc:  # noqa: BLE001 -- everything is reported, never lost
        conn.send(_failure(exc, spec.exp_root))
    finally:
        conn.close()


def _failure(exc: BaseException, exp_root: str) -> tuple:
    from engine.diskfull import from_error
    from engine.events import StepError

    full = from_error(exc, exp_root)
    if full is not None:
        return ("failed", full.reason, full.hint, True)
    if isinstance(exc, StepError):
        return ("failed", exc.reason, exc.hint, False)
    return ("bug", f"{type(exc).__name__}: {exc}", traceback.format_exc())


def _setup_torch(spec: WorkerSpec) -> None:
    import torch

    torch.set_num_threads(spec.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set by an import: harmless
        pass
    if spec.device.startswith("cuda"):
        torch.cuda.set_device(torch.device(spec.device))


def _run(spec: WorkerSpec, stop: _Stop) -> Iterator[tuple]:
    from engine.dataset.format import expdir, sv
    from engine.dataset.format.work import load_models, process_clip, space_needed
    from engine.diskfull import on_full

    _setup_torch(spec)
    exp = expdir.ExpDir(Path(spec.exp_root))
    models = load_models(spec.files, spec.work, spec.device, spec.half)
    records, processed = [], 0
    left = [w for w in spec.work if w.anything]
    with on_full(exp.root, lambda: space_needed(left)):
        for w in spec.work:
            if stop.requested:
                yield ("stopped",)
                return
            if w.anything:
                rec = yield from _relay(process_clip(w, exp, models))
                exp.append(rec, part=spec.index)
                left.remove(w)
                processed += 1
                yield ("clip", w.clip.name)
            else:
                rec = w.old
            records.append(rec)
    if spec.wants_sv:
        out = yield from _relay(sv.run_sv(
            exp, records, model_path=Path(spec.sv_model) if spec.sv_model else None,
            sv_path=spec.sv_path, device=spec.device, half=spec.half, step=spec.step,
            stop=stop, part=spec.index))
        if not out.finished:
            yield ("stopped",)
            return
    exp.write_part(spec.index, records)
    yield ("done", processed, os.getpid())


def _relay(gen) -> Iterator[tuple]:
    """A step-style generator's events as messages; returns its return value."""
    from engine.events import Progress

    while True:
        try:
            event = next(gen)
        except StopIteration as end:
            return end.value
        if isinstance(event, Progress):  # the speaker pass's, one per embedding
            yield ("sv", event.message.removeprefix("speaker "), int(event.total or 0))
        else:
            yield ("event", event)
