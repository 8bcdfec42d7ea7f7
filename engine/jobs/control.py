"""Starting, cancelling and waiting for detached jobs."""
from __future__ import annotations

import datetime as _dt
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from engine.atomic import atomic_write_text
from engine.events import StepError
from engine.jobs.store import (ACTIVE_STATES, JobInfo, is_alive, load_job, proc_start_time,
                               read_status, write_status)
from engine.runner import StepFunc, dotted, request_to_dict
from engine.steplock import Holder, StepLock, tidy_lock


def new_run_dir(project_root: Path | str, step_id: str) -> Path:
    run_dir = _run_dir_name(project_root, step_id)
    run_dir.mkdir(parents=True)
    return run_dir


def _run_dir_name(project_root: Path | str, step_id: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(project_root) / "runs" / step_id / f"{stamp}-{secrets.token_hex(2)}"


def submit(project_root: Path | str, step_id: str, func: StepFunc | str, request: Any) -> JobInfo:
    """Start ``func(request)`` in a detached child (own session, argument list, no shell).

    ``func`` may be a ``"module:function"`` string, so the caller (the TUI) never imports
    the step's heavy modules itself.

    Raises ``engine.events.StepError`` (``StepBusy``), naming the running job and how to follow
    or cancel it, when this step already runs. The step lock taken here is inherited by the
    child, which holds it for the whole run; nothing can start in between.

    The child's stdout and stderr go to ``log.txt``: C libraries (ctranslate2, onnxruntime,
    ALSA) write straight to file descriptors and must never reach the terminal."""
    project_root = Path(project_root).resolve()
    run_dir = _run_dir_name(project_root, step_id)
    started = time.time()
    lock = StepLock.acquire(project_root, step_id,
                            Holder(pid=os.getpid(), job=run_dir.name, started=started, how="job"))
    gate = -1
    try:
        run_dir.mkdir(parents=True)
        spec = {"step": step_id, "target": func if isinstance(func, str) else dotted(func),
                "request_type": dotted(type(request)), "request": request_to_dict(request)}
        atomic_write_text(run_dir / "request.json", json.dumps(spec, ensure_ascii=False, indent=1))
        status = {"id": run_dir.name, "step": step_id, "state": "starting", "started": started,
                  "project_root": str(project_root)}
        write_status(run_dir, status)
        proc, gate = _spawn(run_dir, project_root, lock.fd)
        # The pid is on record before the child runs a line of ours, so cancel() works while
        # the job is still "starting"; the child waits for this write (its stdin pipe closing).
        status.update(pid=proc.pid, pstart=proc_start_time(proc.pid))
        write_status(run_dir, status)
        lock.note(Holder(pid=proc.pid, job=run_dir.name, started=started, how="job"))
    finally:
        if gate >= 0:
            os.close(gate)  # EOF on the child's stdin: go (also if we die before this line)
        lock.release()  # our copy only: the child's inherited copy keeps the lock held
    return load_job(run_dir)


def _spawn(run_dir: Path, project_root: Path, lock_fd: int) -> tuple[subprocess.Popen, int]:
    """The child, gated on a pipe; returns it and the pipe's write end."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    repo = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = repo + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    gate_r, gate_w = os.pipe()
    try:
        with open(run_dir / "log.txt", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "engine.jobs.child", str(run_dir), "--lock-fd",
                 str(lock_fd), "--gate"],
                stdin=gate_r, stdout=log, stderr=subprocess.STDOUT, pass_fds=(lock_fd,),
                start_new_session=True, close_fds=True, cwd=str(project_root), env=env)
    except BaseException:
        os.close(gate_w)
        raise
    finally:
        os.close(gate_r)
    _children[proc.pid] = proc  # reaped by wait()/poll so it never lingers as a zombie
    return proc, gate_w


_children: dict[int, subprocess.Popen] = {}


def _reap() -> None:
    for pid, proc in list(_children.items()):
        if proc.poll() is not None:
            del _children[pid]


def cancel(run_dir: Path | str, *, grace: float = 10.0) -> JobInfo:
    """Ask the job to stop (SIGTERM: it finishes its current unit and saves), then force it
    (SIGKILL to its whole process group) if it is still there after ``grace`` seconds.
    Works in every state: a job still "starting" has nothing to save and ends at once."""
    run_dir = Path(run_dir)
    st = _status_with_pid(run_dir)
    if st.get("state") not in ACTIVE_STATES or not is_alive(st):
        _reap()
        return load_job(run_dir)
    pid = int(st["pid"])
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap()
        if not is_alive(st):
            break
        time.sleep(0.05)
    else:
        _signal_group(pid, signal.SIGKILL)
        for _ in range(100):
            _reap()
            if not is_alive(st):
                break
            time.sleep(0.05)
    st = read_status(run_dir)
    if st.get("state") in ACTIVE_STATES:
        reason = ("Cancelled before it started." if st["state"] == "starting"
                  else "Cancelled (forced).")
        st.update(state="cancelled", ended=time.time(), reason=reason)
        write_status(run_dir, st)
        _settle_cancel(st)
    return load_job(run_dir)


PID_WAIT_S = 5.0


def _status_with_pid(run_dir: Path) -> dict[str, Any]:
    """status.json, waiting briefly for the pid of a job another process is submitting
    right now (its submit writes the pid a moment after the first status)."""
    deadline = time.monotonic() + PID_WAIT_S
    while True:
        st = read_status(run_dir)
        if st.get("pid") or st.get("state", "starting") != "starting" or time.monotonic() > deadline:
            return st
        time.sleep(0.02)


def _settle_cancel(st: dict[str, Any]) -> None:
    """A forced cancel leaves the step "running" in project.toml: put it back to pending,
    unless a new run of the step already holds its lock (its status is its own)."""
    root = st.get("project_root")
    if not root:
        return
    from engine.project import ProjectError, load_project, record_step

    try:
        if load_project(root).step(st["step"]).status != "running":
            return
        lock = tidy_lock(root, st["step"], st.get("id", ""))
        if lock is None:
            return
        with lock:
            record_step(root, st["step"], "pending", message="cancelled; run again to resume")
    except (ProjectError, StepError, OSError):
        pass


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the child leads its own session and process group
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def wait(run_dir: Path | str, timeout: float | None = None, poll: float = 0.1) -> JobInfo:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        _reap()
        job = load_job(run_dir)
        if not job.active:
            return job
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"job {job.id} still {job.state} after {timeout} s")
        time.sleep(poll)
