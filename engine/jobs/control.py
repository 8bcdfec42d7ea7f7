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
from engine.jobs.store import (ACTIVE_STATES, JobInfo, is_alive, load_job, read_status,
                               write_status)
from engine.runner import StepFunc, dotted, request_to_dict


def new_run_dir(project_root: Path | str, step_id: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = Path(project_root) / "runs" / step_id / f"{stamp}-{secrets.token_hex(2)}"
    run_dir.mkdir(parents=True)
    return run_dir


def submit(project_root: Path | str, step_id: str, func: StepFunc | str, request: Any) -> JobInfo:
    """Start ``func(request)`` in a detached child (own session, argument list, no shell).

    ``func`` may be a ``"module:function"`` string, so the caller (the TUI) never imports
    the step's heavy modules itself.

    The child's stdout and stderr go to ``log.txt``: C libraries (ctranslate2, onnxruntime,
    ALSA) write straight to file descriptors and must never reach the terminal."""
    project_root = Path(project_root).resolve()
    run_dir = new_run_dir(project_root, step_id)
    spec = {"step": step_id, "target": func if isinstance(func, str) else dotted(func), "request_type": dotted(type(request)),
            "request": request_to_dict(request)}
    atomic_write_text(run_dir / "request.json", json.dumps(spec, ensure_ascii=False, indent=1))
    status = {"id": run_dir.name, "step": step_id, "state": "starting", "started": time.time(),
              "project_root": str(project_root)}
    write_status(run_dir, status)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    repo = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = repo + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with open(run_dir / "log.txt", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine.jobs.child", str(run_dir)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True, cwd=str(project_root), env=env)
    _children[proc.pid] = proc  # reaped by wait()/poll so it never lingers as a zombie
    return load_job(run_dir)


_children: dict[int, subprocess.Popen] = {}


def _reap() -> None:
    for pid, proc in list(_children.items()):
        if proc.poll() is not None:
            del _children[pid]


def cancel(run_dir: Path | str, *, grace: float = 10.0) -> JobInfo:
    """Ask the job to stop (SIGTERM: it finishes its current unit and saves), then force it
    (SIGKILL to its whole process group) if it is still there after ``grace`` seconds."""
    run_dir = Path(run_dir)
    st = read_status(run_dir)
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
        st.update(state="cancelled", ended=time.time(), reason="Cancelled (forced).")
        write_status(run_dir, st)
        _settle_cancel(st)
    return load_job(run_dir)


def _settle_cancel(st: dict[str, Any]) -> None:
    root = st.get("project_root")
    if root:
        from engine.project import ProjectError, record_step

        try:
            record_step(root, st["step"], "pending", message="cancelled; run again to resume")
        except (ProjectError, OSError):
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
