"""The training dashboard's state, folded from a job's events (``events.jsonl``): the stage
(SoVITS, then GPT), epoch and step, loss curves per term, s/step, ETA, GPU memory, the
newest log lines, the countdown of a command to run afterwards, and the outcome.

One fold for every surface: the Train pane redraws from it, ``gsv train --follow`` prints
:meth:`TrainView.line`. It reads the events file itself (every Progress, where the app's
monitor forwards only the newest), incrementally, so curves survive re-attaching."""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from engine.events import Artifact, Event, Failed, Log, Progress, Result

STAGES = ("SoVITS", "GPT")
# Loss terms drawn per stage: (metric key, label). top3_acc is a score, not a loss.
TERMS = {"SoVITS": (("loss_mel", "mel"), ("loss_kl", "kl"), ("loss_disc", "discriminator"),
                    ("loss_gen", "generator"), ("loss_fm", "feature match")),
         "GPT": (("loss_per_token", "cross-entropy"), ("dpo_loss", "DPO"))}
MAX_POINTS = 512  # per curve: older points are averaged pairwise (the shape of the whole run)
THEN_PREFIX = "then:"


class Curve:
    """A bounded series: when full, neighbouring points are averaged, so it always spans the
    whole run in at most MAX_POINTS values."""

    def __init__(self) -> None:
        self.points: list[float] = []
        self._stride, self._acc, self._n = 1, 0.0, 0

    def add(self, v: float) -> None:
        self._acc, self._n = self._acc + v, self._n + 1
        if self._n < self._stride:
            return
        self.points.append(self._acc / self._n)
        self._acc, self._n = 0.0, 0
        if len(self.points) >= MAX_POINTS:
            self.points = [(a + b) / 2 for a, b in zip(self.points[::2], self.points[1::2])]
            self._stride *= 2

    @property
    def last(self) -> float | None:
        return self.points[-1] if self.points else None


@dataclass
class Stage:
    name: str
    epoch: int = 0
    epochs: int = 0
    step: int = 0  # steps done in this stage (all runs)
    total: int = 0
    steps_per_epoch: int = 0
    batch: int = 0
    s_per_step: float | None = None
    eta_s: float | None = None
    gpu_mem_gb: float | None = None
    resumed: str = ""
    finished: bool = False
    curves: dict[str, Curve] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)


@dataclass
class Then:
    argv: str = ""
    remaining_s: float = 0.0
    state: str = ""  # waiting | ran | cancelled | skipped


@dataclass
class TrainView:
    stages: dict[str, Stage] = field(default_factory=lambda: {s: Stage(s) for s in STAGES})
    current: str = ""
    logs: deque = field(default_factory=lambda: deque(maxlen=200))
    result: str = ""
    failed: tuple[str, str] | None = None
    then: Then | None = None
    artifacts: int = 0  # files the job reported writing (the pane lists checkpoints anew)
    offset: int = 0  # bytes of events.jsonl folded so far
    run_dir: Path | None = None

    def read(self, run_dir: Path) -> bool:
        """Fold what the job wrote since the last call; True when anything changed."""
        from engine.jobs import read_events

        if run_dir != self.run_dir:  # another run: start over
            self.__init__()  # type: ignore[misc]
            self.run_dir = run_dir
        events, self.offset = read_events(run_dir, self.offset)
        for _, ev in events:
            self.feed(ev)
        return bool(events)

    def feed(self, ev: Event) -> None:
        if isinstance(ev, Progress):
            if ev.message.startswith(THEN_PREFIX):
                self._then(ev)
                return
            name = next((s for s in STAGES if ev.message.startswith(s)), "")
            if not name:
                return
            if self.current and self.current != name:
                self.stages[self.current].finished = True
            self.current = name
            st = self.stages[name]
            m = ev.metrics
            st.step, st.total, st.eta_s = int(ev.done), int(ev.total or 0), ev.eta_s
            st.epoch = int(m.get("epoch", st.epoch))
            st.epochs = int(m.get("epochs", st.epochs))
            st.steps_per_epoch = int(m.get("steps_per_epoch", st.steps_per_epoch))
            st.batch = int(m.get("batch_size", st.batch))
            st.s_per_step = m.get("s_per_step", st.s_per_step)
            st.gpu_mem_gb = m.get("gpu_mem_gb", st.gpu_mem_gb)
            for key, _ in TERMS[name]:
                if key in m:
                    st.curves.setdefault(key, Curve()).add(float(m[key]))
                    st.last[key] = float(m[key])
        elif isinstance(ev, Log):
            self.logs.append(ev.line)
            line = ev.line
            if line.startswith("resumed from") or line.startswith("Resuming GPT"):
                name = "SoVITS" if line.startswith("resumed") else "GPT"
                st = self.stages[name]
                st.resumed = line
                if not self.current:  # on screen from the resume, before its first new step
                    self.current = name
                    for key in ("epoch", "step"):
                        found = re.search(key + r" (\d+)", line)
                        if found:
                            setattr(st, key, int(found.group(1)))
            elif line.startswith("SoVITS: SoVITS training finished"):
                self.stages["SoVITS"].finished = True
            elif line.startswith("GPT: GPT trained") or line.startswith("GPT: GPT training already"):
                self.stages["GPT"].finished = True
        elif isinstance(ev, Artifact):
            self.artifacts += 1
        elif isinstance(ev, Result):
            self.result = ev.summary
        elif isinstance(ev, Failed):
            self.failed = (ev.reason, ev.hint)

    def _then(self, ev: Progress) -> None:
        t = self.then or Then()
        t.argv = ev.message[len(THEN_PREFIX):].strip()
        t.remaining_s = float(ev.metrics.get("remaining_s", 0.0))
        t.state = "waiting" if t.remaining_s > 0 else t.state or "waiting"
        self.then = t

    # --- words ---------------------------------------------------------------------------
    def relation(self, name: str) -> str:
        """The epoch/step relation, spelled out once."""
        st = self.stages[name]
        if not st.steps_per_epoch:
            return ""
        unit = "clips" if name == "SoVITS" else "utterances"
        return (f"1 step = one batch of {st.batch or '?'} {unit}; 1 epoch = one pass over the "
                f"data set = {st.steps_per_epoch} steps")

    def line(self) -> str:
        """One line for a log or a terminal: stage, epoch, step, losses, s/step, ETA."""
        if self.then and self.then.state == "waiting":
            return f"then: `{self.then.argv}` in {self.then.remaining_s:.0f} s (cancel: gsv jobs --cancel-then)"
        if not self.current:
            return ""
        st = self.stages[self.current]
        losses = " ".join(f"{label} {st.last[k]:.4g}" for k, label in TERMS[self.current]
                          if k in st.last)
        rate = f" {st.s_per_step:.2f} s/step" if st.s_per_step else ""
        eta = f" ETA {fmt_s(st.eta_s)}" if st.eta_s is not None else ""
        mem = f" GPU {st.gpu_mem_gb:.1f} GB" if st.gpu_mem_gb else ""
        return (f"[{self.current}] epoch {st.epoch}/{st.epochs or '?'} step "
                f"{st.step}/{st.total or '?'}  {losses}{rate}{eta}{mem}").rstrip()


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
