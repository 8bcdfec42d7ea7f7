"""The batch-size probe: the largest batch that fits the card, found with a few real training
steps on the longest clips, and remembered in the project (``logs/<slug>/batch_probe.json``).

The rule (``find_batch``): start at a guess (upstream's "half the GB"); while it fits, double
it; after the first batch that does not fit, bisect between the largest that fitted and the
smallest that did not. "Fits" means the step ran *and* its peak stayed under ``margin`` of
the memory budget: the probe uses the longest clips, but the allocator fragments and the
driver and other processes need room, so a batch that only just fits is not taken. A trial
is any callable ``trial(batch) -> peak bytes`` that raises :class:`OutOfMemory` when the
batch does not fit; on a GPU it measures ``torch.cuda.max_memory_allocated`` (see
``engine.train.probe_trials``), and tests inject a memory budget instead, so the rule is
checked on CPU with real training steps. No torch here (the TUI reads the record)."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from engine.atomic import atomic_write_text

RECORD = "batch_probe.json"
MARGIN = 0.9  # keep 10% of the budget free
MAX_TRIALS = 12


class OutOfMemory(Exception):
    """A trial batch did not fit (the GPU's out-of-memory error, or an injected budget)."""


@dataclass
class ProbeResult:
    batch: int  # the batch size to train with (0: not even 1 fits)
    peak_bytes: int  # the peak of that batch's trial
    budget_bytes: int
    tried: list[tuple[int, str]] = field(default_factory=list)  # (batch, "fits"|"too big"|"oom")

    def why(self) -> str:
        gb = 2 ** 30
        if not self.batch:
            return f"not even a batch of 1 fits in {self.budget_bytes / gb:.1f} GB"
        return (f"the largest that fitted {MARGIN:.0%} of {self.budget_bytes / gb:.1f} GB "
                f"(peak {self.peak_bytes / gb:.1f} GB) on the longest clips")


def find_batch(trial: Callable[[int], int], budget_bytes: int, *, start: int = 1,
               limit: int = 64, margin: float = MARGIN) -> ProbeResult:
    """The largest batch in 1..limit whose trial fits ``margin * budget_bytes``. Assumes
    memory grows with the batch (it does: the probe pads every row to the longest clip)."""
    cap = margin * budget_bytes
    res = ProbeResult(0, 0, budget_bytes)
    peaks: dict[int, int] = {}

    def fits(b: int) -> bool:
        try:
            peak = int(trial(b))
        except OutOfMemory:
            res.tried.append((b, "oom"))
            return False
        ok = peak <= cap
        res.tried.append((b, "fits" if ok else "too big"))
        if ok:
            peaks[b] = peak
        return ok

    good, bad = 0, limit + 1
    b = max(1, min(start, limit))
    while len(res.tried) < MAX_TRIALS:  # grow until something does not fit
        if fits(b):
            good = b
            if b >= limit:
                break
            b = min(limit, b * 2)
        else:
            bad = b
            break
    while bad - good > 1 and len(res.tried) < MAX_TRIALS:
        mid = (good + bad) // 2
        if mid == 0:
            break
        if fits(mid):
            good = mid
        else:
            bad = mid
    res.batch, res.peak_bytes = good, peaks.get(good, 0)
    return res


@dataclass
class Probed:
    """One stage's remembered answer."""

    batch: int
    peak_gb: float
    longest_s: float


@dataclass
class ProbeRecord:
    device: str  # the card's name: a record for another card is not used
    memory_gb: float
    when: str
    stages: dict[str, Probed] = field(default_factory=dict)  # "sovits" | "gpt"


def read_record(exp_dir: Path) -> ProbeRecord | None:
    try:
        data = json.loads((exp_dir / RECORD).read_text(encoding="utf-8"))
        return ProbeRecord(str(data["device"]), float(data["memory_gb"]), str(data["when"]),
                           {k: Probed(**v) for k, v in data.get("stages", {}).items()})
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none yet, or hand-edited into something else: probe again


def remember(exp_dir: Path, device: str, memory_gb: float, stage: str, probed: Probed) -> ProbeRecord:
    rec = read_record(exp_dir)
    if rec is None or rec.device != device:
        rec = ProbeRecord(device, memory_gb, "")
    rec.stages[stage] = probed
    rec.when = time.strftime("%Y-%m-%d %H:%M")
    exp_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(exp_dir / RECORD, json.dumps(asdict(rec), indent=1) + "\n")
    return rec
