"""Small real steps for job-runner tests: they count, sleep, print to fds, crash or stop."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from engine.events import Artifact, Event, Log, Progress, Result, StopToken
from engine.settings import knob


@dataclass
class CountRequest:
    project_root: str = ""
    n: int = knob(10, "how many ticks", min=1, max=100000)
    tick_s: float = knob(0.05, "seconds per tick", min=0.0, max=60.0)
    crash_at: int = -1  # hard crash (os._exit) at this tick, like an OOM kill
    raise_at: int = -1  # raise an exception at this tick
    out: str = ""  # write the final count here


def run_count(req: CountRequest, stop: StopToken | None = None) -> Iterator[Event]:
    start = time.monotonic()
    for i in range(req.n):
        if stop is not None and stop.requested:
            yield Log(f"stopping at {i}")
            return
        if i == req.crash_at:
            os.write(2, b"native library says: fatal error in worker\n")
            os._exit(9)
        if i == req.raise_at:
            raise RuntimeError("boom at tick %d" % i)
        os.write(1, f"raw fd write {i}\n".encode())
        time.sleep(req.tick_s)
        el = time.monotonic() - start
        yield Progress("count", i + 1, req.n, eta_s=el / (i + 1) * (req.n - i - 1))
    if req.out:
        Path(req.out).write_text(str(req.n))
        yield Artifact(req.out, "count")
    yield Result(f"counted to {req.n}", {"n": req.n})


@dataclass
class PartialRequest:
    project_root: str = ""


def run_partial(req: PartialRequest, stop: StopToken | None = None) -> Iterator[Event]:
    """Reports what it did before stopping, as the ASR step does."""
    yield Progress("partial", 1, 2)
    yield Result("1 of 2 done", {"stopped": True, "remaining": 1})
