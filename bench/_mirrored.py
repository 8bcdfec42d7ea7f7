"""Timing several paths on a shared machine: A B C C B A per round (the load drifts; the
mirrored order spreads it over every path), wall and CPU time per run, load average kept."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Timings:
    walls: dict[str, list[float]] = field(default_factory=dict)
    cpus: dict[str, list[float]] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)  # each path's last result
    loads: list[float] = field(default_factory=list)


def mirrored(paths: list[str], rounds: int, run: Callable[[str], Any],
             sync: Callable[[], None] = lambda: None) -> Timings:
    """``run(path)`` timed ``2 * rounds`` times per path; ``sync`` waits for a device."""
    t = Timings({p: [] for p in paths}, {p: [] for p in paths})
    for _ in range(rounds):
        for p in paths + paths[::-1]:
            sync()
            w0, c0 = time.perf_counter(), time.process_time()
            t.results[p] = run(p)
            sync()
            t.walls[p].append(time.perf_counter() - w0)
            t.cpus[p].append(time.process_time() - c0)
            t.loads.append(os.getloadavg()[0])
    return t
