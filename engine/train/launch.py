"""One training stage in several processes: torchrun as a child of the Train step's (job)
process, rank 0's events re-yielded, so the job runner, cancel, the dashboard and
``gsv train --follow`` see the same stream as from a single-process stage.

torchrun (``python -m torch.distributed.run --standalone``) starts one worker per GPU
(``engine.train.distributed``), each with CUDA_VISIBLE_DEVICES narrowed to the stage's GPUs,
and stops them all when one fails (``--max-restarts 0``). It runs in its own session with a
death signal tied to this process, so a cancel reaches it only through us: a stop request
becomes SIGTERM to torchrun, which passes it to every rank; they agree to stop at the same
step and rank 0 saves. Its output and the ranks' go to ``runs/train/ddp/<stage>/torchrun.log``."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from engine.events import Event, Failed, Log, Result, StepError, StopToken, event_from_dict

WORKER = "engine.train.distributed"
WORKER_ENV = "GSV_TRAIN_WORKER"  # tests only: a module that wraps the worker (a gate)
STOP_GRACE_S = 60.0  # rank 0 saving a full-size checkpoint after a stop request
_FAILURE = re.compile(r"rank\s*:\s*(\d+).*?exitcode\s*:\s*(-?\d+)", re.S)


@dataclass(frozen=True)
class Placement:
    """Where one stage trains: ``procs`` processes, one per GPU in ``gpus`` (empty: CPU)."""

    procs: int
    gpus: tuple[str, ...] = ()

    @property
    def distributed(self) -> bool:  # False: train in this process, as before
        return self.procs > 1 or bool(self.gpus)

    def describe(self) -> str:
        if self.gpus:
            return f"{self.procs} process{'es' if self.procs > 1 else ''} on GPU " + \
                ",".join(self.gpus)
        return f"{self.procs} CPU processes (gloo)"


def visible_gpus() -> list[str]:
    """The GPUs training may use: CUDA_VISIBLE_DEVICES's entries when it is set, else every
    GPU nvidia-smi lists (by its numbers)."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip() and g.strip() != "-1"]
    from engine.doctor import detect_gpus

    return [str(i) for i in range(len(detect_gpus()))]


def placement(device_kind: str, gpus: str, processes: int, visible: list[str]) -> Placement:
    """Where a stage trains. On CUDA: the GPUs named (``"0,1"``), or all visible ones when
    none is named; one visible GPU and none named trains in this process, as before. On CPU:
    ``processes`` processes (gloo)."""
    if device_kind != "cuda":
        return Placement(max(1, processes))
    named = [g.strip() for g in gpus.split(",") if g.strip()]
    if not named:
        return Placement(len(visible), tuple(visible)) if len(visible) > 1 else Placement(1)
    unknown = [g for g in named if g not in visible]
    if unknown or len(set(named)) != len(named):
        what = f"GPU {', '.join(unknown)} is not" if unknown else "a GPU is named twice"
        raise StepError(f"{what} among the visible GPUs ({', '.join(visible) or 'none'}).",
                        "Name each GPU once by the number `nvidia-smi -L` shows (e.g. --gpus "
                        "0,1), or leave GPUs empty to use all of them.")
    return Placement(len(named), tuple(named))


def halves(place: Placement) -> tuple[Placement, Placement] | None:
    """Disjoint GPU sets (or CPU process counts) for SoVITS and GPT side by side, SoVITS the
    larger half; None when there is only one GPU (then they must take turns)."""
    n = len(place.gpus) if place.gpus else place.procs
    if n < 2:
        return None
    k = (n + 1) // 2
    if place.gpus:
        return Placement(k, place.gpus[:k]), Placement(n - k, place.gpus[k:])
    return Placement(k), Placement(n - k)


def _arm_death_signal() -> None:  # runs in the child before exec: torchrun dies with us
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _lock_fds(lock: Path) -> tuple[int, ...]:
    """This process's descriptors of the step lock (held by an inline run or a job child).
    torchrun inherits them, so the lock stays held while ranks may still write, even when
    this process is killed first (torchrun then stops the ranks, which save)."""
    try:
        want = os.stat(lock)
        names = os.listdir("/proc/self/fd")
    except OSError:
        return ()
    fds = []
    for name in names:
        try:
            st = os.fstat(int(name))
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
            fds.append(int(name))
    return tuple(fds)


class Launch:
    """A running torchrun for one stage; ``events()`` yields rank 0's events until it ends."""

    def __init__(self, name: str, stage: str, request: Any, place: Placement,  # noqa: ANN401
                 folder: Path, rel: str, lock: Path | None = None) -> None:
        self.name, self.stage, self.place, self.folder, self.rel = name, stage, place, folder, rel
        folder.mkdir(parents=True, exist_ok=True)
        self.events_path, self.log_path = folder / "events.jsonl", folder / "torchrun.log"
        for p in (self.events_path, self.log_path):
            p.write_text("", encoding="utf-8")
        spec = {"stage": stage, "request": dataclasses.asdict(request),
                "events": str(self.events_path)}
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        env = dict(os.environ)
        if place.gpus:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(place.gpus)
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
               "--nproc-per-node", str(place.procs), "--max-restarts", "0",
               "-m", os.environ.get(WORKER_ENV) or WORKER, str(spec_path)]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                     preexec_fn=_arm_death_signal, close_fds=True,
                                     pass_fds=_lock_fds(lock) if lock else ())
        self._offset, self._buf = 0, b""
        self.result: Result | None = None
        self.failed: Failed | None = None
        self.crash = ""
        self.error: BaseException | None = None
        self._stopping = False

    def stop(self) -> None:
        """Ask every rank to stop after its current step (rank 0 saves first)."""
        if not self._stopping and self.proc.poll() is None:
            self._stopping = True
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def poll(self) -> list[Event]:
        """Rank 0's events written since the last call (complete lines only)."""
        with open(self.events_path, "rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        self._offset += len(chunk)
        self._buf += chunk
        *lines, self._buf = self._buf.split(b"\n")
        out: list[Event] = []
        for raw in lines:
            data = json.loads(raw)
            if "crash" in data:
                self.crash = data["crash"]
                continue
            ev = event_from_dict(data)
            if isinstance(ev, Result):
                self.result = ev
            elif isinstance(ev, Failed):
                self.failed = ev
            out.append(ev)
        return out

    def close(self) -> None:
        if not self._log.closed:
            self._log.close()

    def done(self, wait_s: float = 0.0) -> bool:
        if wait_s:
            try:
                self.proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                return False
        return self.proc.poll() is not None

    def started(self) -> Log:
        return Log(f"{self.name}: {self.place.describe()} under torchrun (pid {self.proc.pid}); "
                   f"output in {self.rel}")

    def outcome(self) -> BaseException | None:
        """None when rank 0 reported its Result or Failed (forwarded as is); else why the
        processes ended without one, as a sentence (or the crash itself, for OOM)."""
        if self.result is not None or self.failed is not None:
            return None
        if "out of memory" in self.crash.lower():
            return RuntimeError(self.crash)  # the Train step turns it into its OOM sentence
        tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-20000:]
        n, code = self.place.procs, self.proc.returncode
        where = f"See {self.rel}/torchrun.log for the processes' output."
        m = _first_cause(tail)
        if m:
            rank, exit_code = m
            how = (f"was killed by {_signame(-exit_code)}" if exit_code < 0
                   else f"ended with exit code {exit_code}")
            who = f"training process {rank + 1} of {n} (rank {rank}) {how}"
            if self.crash and rank == 0:  # another rank's death shows on rank 0 only as noise
                who += f" ({self.crash})"
        elif self.crash:
            who = f"training process 1 of {n} (rank 0) failed: {self.crash}"
        else:
            who = f"torchrun ended with exit code {code} before rank 0 reported a result"
        oom = " A SIGKILL nobody sent is often the system's out-of-memory killer " \
              "(`dmesg | grep -i oom`)." if m and m[1] == -9 else ""
        return StepError(f"{self.name} training stopped: {who}; the other processes were "
                         "stopped with it.",
                         "Run Train again: it resumes from the last checkpoint (steps after it "
                         f"were not kept).{oom} {where}")


def _first_cause(log: str) -> tuple[int, int] | None:
    """(rank, exit code) of the process that failed first, from torchrun's summary. When one
    rank dies the others fail a moment later (their collective loses its peer) and torchrun
    may list them in either order, so a death by signal counts first, then a rank other
    than 0 (rank 0 only reports what it saw)."""
    block = log[log.rfind("ChildFailedError"):] if "ChildFailedError" in log else ""
    found = [(int(r), int(c)) for r, c in _FAILURE.findall(block)]
    return min(found, key=lambda rc: (rc[1] >= 0, rc[0] == 0)) if found else None


def _signame(sig: int) -> str:
    try:
        return f"signal {sig} ({signal.Signals(sig).name})"
    except ValueError:
        return f"signal {sig}"


def run_stages(launches: list[Launch], stop: StopToken) -> Iterator[tuple[Launch, Event]]:
    """Rank 0's events of one stage, or of several side by side (disjoint GPUs) interleaved
    as they come. A stop request, or one stage failing, asks the others to stop (they save).
    A stage that ended without its own Result or Failed has ``error`` set (a sentence). If
    the consumer gives up early, the launches are stopped and waited for, never orphaned."""
    live = list(launches)
    try:
        for x in launches:
            yield x, x.started()
        while live:
            if stop.requested or any(x.failed or x.error for x in launches):
                for x in live:
                    x.stop()
            for x in list(live):
                finished = x.done(0.05 / len(live))  # wakes at once when torchrun ends
                for ev in x.poll():
                    if isinstance(ev, Result) and ev.data.get("stopped"):
                        stop.request()  # a rank was told to stop (SIGTERM): so is the step
                    yield x, ev
                if finished:
                    x.close()
                    x.error = x.outcome()
                    live.remove(x)
    finally:
        for x in live:
            x.stop()
        for x in live:
            if not x.done(STOP_GRACE_S):
                try:
                    os.killpg(x.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                x.done(10.0)
            x.close()
