"""Reading job run folders: status, events (incrementally), log tail, and liveness.

A job whose process is gone without a final status is reported ``failed`` with the last log
lines, never as running forever; whoever notices first writes that down."""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.atomic import atomic_write_text
from engine.events import Event, event_from_dict

ACTIVE_STATES = ("starting", "running", "stopping")


@dataclass
class JobInfo:
    run_dir: Path
    id: str
    step: str
    state: str
    pid: int = 0
    started: float = 0.0
    ended: float | None = None
    summary: str = ""
    reason: str = ""
    hint: str = ""
    progress: dict[str, Any] = field(default_factory=dict)
    project_root: str = ""

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


def read_status(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / "status.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_status(run_dir: Path, status: dict[str, Any]) -> None:
    atomic_write_text(run_dir / "status.json", json.dumps(status, ensure_ascii=False, indent=1))


def proc_start_time(pid: int) -> str | None:
    """Kernel start time of ``pid`` (guards against pid reuse), or None if it is gone/zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    rest = stat[stat.rfind(")") + 2 :].split()
    if rest[0] in ("Z", "X"):  # a zombie has finished; only its parent has not reaped it
        return None
    return rest[19]


def is_alive(status: dict[str, Any]) -> bool:
    pid = int(status.get("pid") or 0)
    if pid <= 0:
        return False
    start = proc_start_time(pid)
    return start is not None and (not status.get("pstart") or status["pstart"] == start)


def tail_log(run_dir: Path, lines: int = 20) -> list[str]:
    try:
        with open(run_dir / "log.txt", "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return []
    return [ln for ln in data.splitlines() if ln.strip()][-lines:]


def load_job(run_dir: Path | str, *, settle: bool = True) -> JobInfo:
    run_dir = Path(run_dir)
    st = read_status(run_dir)
    state = st.get("state", "starting")
    if state in ACTIVE_STATES and not is_alive(st):
        # Give a just-spawned child a moment to write its pid before calling it dead.
        if not (state == "starting" and time.time() - st.get("started", 0) < 10):
            state = "failed"
            last = tail_log(run_dir, 8)
            st.update(state="failed", ended=time.time(),
                      reason="The job's process ended without reporting a result.",
                      hint="Last log lines:\n" + "\n".join(last) if last else
                      "Its log is empty; it may have been killed (out of memory?).")
            if settle:
                write_status(run_dir, st)
                _settle_project(st)
    return JobInfo(run_dir=run_dir, id=st.get("id", run_dir.name), step=st.get("step", run_dir.parent.name),
                   state=state, pid=int(st.get("pid") or 0), started=st.get("started", 0.0),
                   ended=st.get("ended"), summary=st.get("summary", ""), reason=st.get("reason", ""),
                   hint=st.get("hint", ""), progress=st.get("progress") or {},
                   project_root=st.get("project_root", ""))


def _settle_project(st: dict[str, Any]) -> None:
    root = st.get("project_root")
    if not root:
        return
    from engine.events import StepError
    from engine.project import ProjectError, load_project, record_step
    from engine.steplock import tidy_lock

    try:
        step = load_project(root).steps.get(st.get("step", ""))
        if not (step and step.status == "running"):
            return
        lock = tidy_lock(root, st["step"], st.get("id", ""))
        if lock is None:
            return  # a new run of the step holds it: the status is that run's now
        with lock:
            record_step(root, st["step"], "failed", message=st["reason"])
    except (ProjectError, StepError, OSError):
        pass


def list_jobs(project_root: Path | str, step: str | None = None) -> list[JobInfo]:
    """All runs of a project, newest first."""
    runs = Path(project_root) / "runs"
    pattern = f"{step}/*" if step else "*/*"
    dirs = [d for d in runs.glob(pattern) if (d / "status.json").exists()]
    jobs = [load_job(d) for d in dirs]
    return sorted(jobs, key=lambda j: j.started, reverse=True)


def read_events(run_dir: Path | str, offset: int = 0) -> tuple[list[tuple[float, Event]], int]:
    """Events appended since byte ``offset``; returns them and the new offset. A partly
    written last line is left for the next call."""
    path = Path(run_dir) / "events.jsonl"
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    out = []
    for line in data[:end].splitlines():
        try:
            rec = json.loads(line)
            out.append((rec.get("t", 0.0), event_from_dict(rec["event"])))
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return out, offset + end
