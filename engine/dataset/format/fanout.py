"""Fanned-out formatting: the clip list split into contiguous shares, one worker process
(engine.dataset.format.worker) per GPU listed in the ``workers`` setting (or per CPU
process), their events combined into the step's stream.

Shares are contiguous (upstream deals lines out round-robin): concatenating the part files
in order then gives exactly the lines, in the order, a single process writes. Cuts fall
where the work still to do, not the clip count, is balanced, so a resumed run keeps every
worker busy. A worker's failure stops the others (they finish the clip in hand, which is
journaled) and fails the step with that worker's sentence; a worker that dies without a
word is named with its signal."""
from __future__ import annotations

import os
import signal
import time
from typing import Iterator

from engine.events import Event, Log, Progress, StepError, StopToken

# How long the other workers get to finish the clip in hand after one failed.
GRACE_S = 20.0


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_per_worker(n: int) -> int:
    """torch threads for each of ``n`` workers: all of them together use at most the cores."""
    return max(1, cores() // max(1, n))


def parse_workers(text: str, device: str) -> list[str]:
    """The ``workers`` setting -> one torch device per worker process; [] means the step
    runs in its own process, as without the setting."""
    t = text.strip().lower()
    if not t:
        return []
    if device == "cpu":
        if not t.isdigit() or not 1 <= int(t) <= 64:
            raise StepError(f"workers = {text!r}: on the CPU it is a number of processes.",
                            "Set workers to a whole number from 1 to 64 (e.g. 2), or leave "
                            "it empty for one process.")
        return [] if int(t) == 1 else ["cpu"] * int(t)
    import torch

    count = torch.cuda.device_count()
    if t == "all":
        return [f"cuda:{i}" for i in range(count)]
    ids = [s.strip() for s in t.replace("-", ",").split(",")]
    if not all(s.isdigit() for s in ids):
        raise StepError(f"workers = {text!r} is not a list of GPU numbers.",
                        "Write GPU numbers separated by commas (e.g. 0,1; 0,0 runs two "
                        "workers on GPU 0), or all, or leave it empty for one process.")
    bad = [s for s in ids if int(s) >= count]
    if bad:
        raise StepError(f"workers = {text!r} names GPU {bad[0]}, but torch sees {count} "
                        f"GPU{'s' if count != 1 else ''} (0 to {count - 1}).",
                        "Use the numbers nvidia-smi lists (counted within "
                        "CUDA_VISIBLE_DEVICES when it is set).")
    return [f"cuda:{int(s)}" for s in ids]


def split(weights: list[float], n: int) -> list[tuple[int, int]]:
    """Contiguous [start, end) shares of the clips for at most ``n`` workers, each holding
    some work (weight > 0), cut where the work before reaches its share of the total."""
    idx = [i for i, w in enumerate(weights) if w > 0]
    k = min(n, len(idx))
    if k == 0:
        return []
    total, acc, cuts = float(sum(weights)), 0.0, []
    for pos, i in enumerate(idx):
        want = len(cuts) + 1
        if want < k and pos > 0 and (acc >= want * total / k or len(idx) - pos == k - want):
            cuts.append(i)
        acc += weights[i]
    starts = [0, *cuts]
    return list(zip(starts, [*cuts, len(weights)]))


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


class Outcome:
    def __init__(self) -> None:
        self.done: set[str] = set()  # clips journaled by the workers this run
        self.stopped = False  # every worker stopped early: run again to resume
        self.disk_full = False  # the failure was a full disk (the step restates its need)


_TEXT_MODULES = {"zh": "engine.text.chinese", "en": "engine.text.english",
                 "ja": "engine.text.japanese"}


def _context(languages: set[str]):
    """A fork server (a fresh process, started once, that has imported only what
    engine.dataset.format.preload lists, and the G2P of the languages to do: no thread, no
    CUDA) forks the workers, so they share its imports; where there is none, spawn. Never
    a fork of the step's process."""
    import multiprocessing

    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:
        return multiprocessing.get_context("spawn")
    # Takes effect only when the server starts (the first fanned run of this process).
    ctx.set_forkserver_preload([_TEXT_MODULES[lang] for lang in sorted(languages)
                                if lang in _TEXT_MODULES] + ["engine.dataset.format.preload"])
    return ctx


def run_workers(specs: list, *, stop: StopToken | None, step: str, total: int,
                already: int, sv_due: list[int], outcome: Outcome) -> Iterator[Event]:
    """Start one process per spec and relay what they report until all have ended. Raises
    the first failure's StepError once every worker is gone. ``sv_due``: speaker
    embeddings each worker is expected to write (each corrects its own once it knows)."""
    from engine.dataset.format import worker

    ctx = _context({w.clip.lang for spec in specs for w in spec.work if w.text})
    halt = ctx.Event()
    procs, conns = [], []
    try:
        for spec in specs:
            read, write = ctx.Pipe(duplex=False)
            p = ctx.Process(target=worker.main, args=(spec, write, halt), daemon=True,
                            name=f"gsv-format-{spec.index}")
            p.start()
            write.close()  # ours: the worker's end closing is how we see it gone
            procs.append(p)
            conns.append(read)
        yield from _relay(specs, procs, conns, halt, stop, step, total, already,
                          list(sv_due), outcome)
    finally:  # also when our consumer goes away: no worker outlives the step
        halt.set()
        for p in procs:
            p.join(timeout=GRACE_S if p.is_alive() else 0)
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()


def _relay(specs, procs, conns, halt, stop, step, total, already, sv_due, outcome
           ) -> Iterator[Event]:
    from multiprocessing.connection import wait

    live = dict(enumerate(conns))
    finished: set[int] = set()
    stopped: set[int] = set()
    failure: StepError | None = None
    n_done, sv_done, started, deadline = already, 0, time.monotonic(), None
    while live:
        if stop is not None and stop.requested:
            halt.set()
        if deadline is not None and time.monotonic() > deadline:
            for i in live:
                procs[i].kill()  # the grace is over: what it finished is journaled
            deadline = float("inf")
        for conn in wait(list(live.values()), timeout=0.2):
            i = next(j for j, c in live.items() if c is conn)
            try:
                msg = conn.recv()
            except (EOFError, OSError):  # its end closed: the worker has ended
                del live[i]
                procs[i].join()
                if i not in finished and i not in stopped and failure is None:
                    spec = specs[i]
                    failure = StepError(
                        f"Formatting worker {i + 1} of {len(specs)} ({spec.device}) ended "
                        f"without finishing ({_how(procs[i].exitcode)}).",
                        "What it finished is kept: run Format again to resume. If it "
                        "happens again, the machine may be short of memory: use fewer "
                        "workers.")
                continue
            kind = msg[0]
            elapsed = time.monotonic() - started
            if kind == "event":
                yield msg[1]
            elif kind == "clip":
                n_done += 1
                outcome.done.add(msg[1])
                done_now = n_done - already
                yield Progress(step, n_done, total, elapsed / done_now * (total - n_done),
                               msg[1])
            elif kind == "sv":
                sv_done += 1
                sv_due[i] = msg[2]  # a clip whose audio was skipped has no embedding to do
                sv_total = sum(sv_due)
                yield Progress(step, sv_done, sv_total,
                               elapsed / sv_done * max(sv_total - sv_done, 0), f"speaker {msg[1]}")
            elif kind == "done":
                finished.add(i)
            elif kind == "stopped":
                stopped.add(i)
                halt.set()
            elif failure is None:  # failed / bug: the first one is the step's
                if kind == "bug":
                    yield Log(msg[2], "error")
                    failure = StepError(
                        f"Formatting worker {i + 1} of {len(specs)} failed: {msg[1]}",
                        "This looks like a bug in gsv-tui; the log has the worker's "
                        "traceback. Finished clips are kept: run Format again to resume.")
                else:
                    failure = StepError(msg[1], msg[2])
                    outcome.disk_full = bool(msg[3])
            if failure is not None and deadline is None:
                halt.set()  # the others finish the clip in hand, then stop
                deadline = time.monotonic() + GRACE_S
    if failure is not None:
        raise failure
    if stopped:
        if stop is None or not stop.requested:
            raise StepError("A formatting worker was stopped (SIGTERM) before it finished.",
                            "Run Format again to resume where it stopped.")
        outcome.stopped = True
