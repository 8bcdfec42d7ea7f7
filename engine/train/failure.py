"""Why a training run failed, in one sentence with its fix.

Two places need it: the Train step turns a CUDA out-of-memory error into a sentence that
names the batch size to use and the longest clips (:func:`oom_error`), and the dashboard /
``gsv train --follow`` read a finished job (its Failed event, or only its log when the
process was killed) and classify it (:func:`explain`)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from engine.events import StepError
from engine.train.plan import DataSummary

FLAGS = {"SoVITS": "--sovits-batch-size", "GPT": "--gpt-batch-size"}


def is_oom(exc: BaseException) -> bool:
    """torch's OutOfMemoryError (and the older RuntimeError spelling) from any device."""
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower()


def _clips(data: DataSummary) -> str:
    return ", ".join(f"{c.name} ({c.seconds:.1f} s)" for c in data.longest)


def oom_error(stage: str, batch: int, data: DataSummary) -> StepError:
    clips = _clips(data)
    if batch <= 1:
        return StepError(f"{stage} training ran out of GPU memory even at batch size 1.",
                         "Cut or remove the longest clips" + (f" ({clips})" if clips else "")
                         + " and format again, or use a card with more memory; training "
                         "resumes from the last checkpoint.")
    lower = max(1, batch // 2)
    return StepError(f"{stage} training ran out of GPU memory at batch size {batch}.",
                     f"Lower the {stage} batch size to {lower} ({FLAGS[stage]} {lower}, or in "
                     "the settings)" + (f", or cut or remove the longest clips: {clips}" if clips
                                        else "") + "; training resumes from the last checkpoint.")


@dataclass(frozen=True)
class Cause:
    kind: str  # oom | nan | pretrained | disk | killed | other
    sentence: str
    fix: str


_KILLED = "ended without reporting a result"
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("oom", re.compile(r"out of (GPU )?memory|OutOfMemoryError", re.I)),
    ("disk", re.compile(r"disk full|No space left on device|ENOSPC", re.I)),
    ("nan", re.compile(r"not a number|diverged|\bnan\b", re.I)),
    ("pretrained", re.compile(r"(pretrained|s2G|s2D|s1bert|\.ckpt|\.pth).*(not on this machine|"
                              r"does not exist|No such file|cannot be read)|not on this machine",
                              re.I)),
)


def explain(reason: str, hint: str = "", log: Iterable[str] = ()) -> Cause:
    """Classify a failure from the job's own words: its Failed reason/hint, else its log."""
    lines = list(log)
    if _KILLED in reason:
        text = "\n".join(lines[-40:])
        for kind, rx in _RULES[:2]:  # the log may still say why (a CUDA OOM printed by a C library)
            if rx.search(text):
                return _generic(kind)
        return Cause("killed", "The training process was killed before it could report why "
                     "(the system's out-of-memory killer, a reboot, or kill -9).",
                     "Run Train again: it resumes from the last checkpoint. If it happens "
                     "again, lower the batch sizes or free RAM (`dmesg | grep -i oom` lists "
                     "the kernel's out-of-memory kills).")
    for kind, rx in _RULES:
        if rx.search(reason):
            if kind == "oom" and "batch size" not in reason:
                return _generic(kind)
            return Cause(kind, reason, hint)
    return Cause("other", reason, hint)


def _generic(kind: str) -> Cause:
    if kind == "oom":
        return Cause("oom", "Training ran out of GPU memory.",
                     "Lower the batch sizes (--sovits-batch-size, --gpt-batch-size) or cut the "
                     "longest clips; training resumes from the last checkpoint.")
    return Cause("disk", "The disk filled up while training wrote a checkpoint.",
                 "Free some space (old runs/ folders, other experiments) and run Train again; "
                 "nothing half-written was kept.")
