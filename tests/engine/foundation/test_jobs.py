"""Detached jobs with real processes: they outlive a dropped terminal (SIGHUP), are
re-attached by new processes, cancel gracefully or by force, and a crash shows as failed
with the last log lines."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from engine import jobs
from engine.events import Failed, Progress, Result
from engine.project import create_project, load_project
from tests.helpers.steps import CountRequest, run_count

REPO = Path(__file__).resolve().parents[3]
GSV = [sys.executable, "-m", "gsv_tui.cli"]


def _project(tmp_path):
    return create_project(tmp_path / "p", "jobs test")


def test_job_runs_detached_and_records_its_outcome(tmp_path):
    p = _project(tmp_path)
    out = p.root / "count.txt"
    job = jobs.submit(p.root, "slice", run_count,
                      CountRequest(project_root=str(p.root), n=8, tick_s=0.02, out=str(out)))
    assert job.state == "starting"
    job = jobs.wait(job.run_dir, timeout=60)
    assert job.state == "done" and job.summary == "counted to 8"
    events, _ = jobs.read_events(job.run_dir)
    kinds = [type(e).__name__ for _, e in events]
    assert kinds.count("Progress") == 8 and kinds[-1] == "Result"
    # C libraries' raw fd writes land in the job log, never in a terminal
    assert "raw fd write 7" in (job.run_dir / "log.txt").read_text()
    st = load_project(p.root).step("slice")
    assert st.status == "done" and st.job.startswith("runs/slice/")
    assert st.artifacts[0].path == "count.txt"


def _alive(pid: str) -> bool:
    """The process exists and is not a zombie."""
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_job_survives_sighup_of_its_terminal_and_is_reattached(tmp_path):
    """The parent runs on a real pseudo-terminal (`script`); killing `script` closes the
    terminal, as a dropped SSH connection does, and the kernel hangs up the session."""
    p = _project(tmp_path)
    marker = tmp_path / "parent_started"
    parent = textwrap.dedent(f"""
        import os, signal, time, pathlib
        # as from a login shell: a hang-up ends us (a suite run under nohup would have
        # passed its SIGHUP-ignored disposition down to here)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        from engine import jobs
        from tests.helpers.steps import CountRequest, run_count
        job = jobs.submit({str(p.root)!r}, "train", run_count,
                          CountRequest(project_root={str(p.root)!r}, n=40, tick_s=0.1))
        part = pathlib.Path({str(marker)!r} + ".part")
        part.write_text(f"{{os.getpid()}} {{job.run_dir}}")
        os.replace(part, {str(marker)!r})  # whole, so the test never reads half of it
        time.sleep(600)
    """)
    script = tmp_path / "parent.py"
    script.write_text(parent)
    term = subprocess.Popen(["script", "-qfec", f"{sys.executable} {script}", "/dev/null"],
                            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.1)
    # the parent says who it is: `pgrep -f` on its command line also matches the job's own
    # process while it is forked and not yet exec'd, which must (and does) survive
    parent_pid, run_dir = marker.read_text().split(" ", 1)
    run_dir = Path(run_dir)
    os.kill(term.pid, signal.SIGKILL)  # the "SSH connection" drops: the pty master closes
    term.wait()
    # the parent on that terminal gets SIGHUP and goes: wait for that (a loaded machine may
    # take more than a second), then check it happened
    deadline = time.time() + 30
    while _alive(parent_pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not _alive(parent_pid)
    deadline = time.time() + 60  # the job, meanwhile, may still be starting: it must run on
    while jobs.load_job(run_dir).state == "starting" and time.time() < deadline:
        time.sleep(0.05)
    job = jobs.load_job(run_dir)
    assert job.state == "running", (job.state, job.reason)
    # a new process re-attaches: `gsv jobs --follow` streams to the end
    follow = subprocess.run(GSV + ["jobs", "-C", str(p.root), "--follow"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert follow.returncode == 0, follow.stderr
    assert "counted to 40" in follow.stderr
    assert jobs.load_job(run_dir).state == "done"
    status = json.loads(subprocess.run(GSV + ["status", "-C", str(p.root), "--json"], cwd=REPO,
                                       capture_output=True, text=True).stdout)
    assert status["steps"]["train"]["status"] == "done"


def test_cancel_is_graceful_first(tmp_path):
    p = _project(tmp_path)
    job = jobs.submit(p.root, "asr", run_count, CountRequest(project_root=str(p.root), n=10000, tick_s=0.01))
    _wait_progress(job)
    job = jobs.cancel(job.run_dir, grace=20)
    assert job.state == "cancelled"
    events, _ = jobs.read_events(job.run_dir)
    assert any(getattr(e, "line", "").startswith("stopping at") for _, e in events)  # it saw the request
    assert isinstance(events[-1][1], Failed)
    st = load_project(p.root).step("asr")
    assert st.status == "pending" and "resume" in st.message


def test_cancel_forces_a_job_that_does_not_stop(tmp_path):
    p = _project(tmp_path)
    job = jobs.submit(p.root, "asr", run_count, CountRequest(project_root=str(p.root), n=3, tick_s=30))
    time.sleep(1.5)
    t0 = time.monotonic()
    job = jobs.cancel(job.run_dir, grace=1.0)
    assert time.monotonic() - t0 < 10
    assert job.state == "cancelled" and "forced" in job.reason
    assert not jobs.load_job(job.run_dir).active


def test_a_crashing_job_shows_failed_with_its_last_log_lines(tmp_path):
    p = _project(tmp_path)
    job = jobs.submit(p.root, "format", run_count, CountRequest(project_root=str(p.root), n=10, crash_at=3))
    job = jobs.wait(job.run_dir, timeout=60)
    assert job.state == "failed"
    assert "ended without reporting" in job.reason
    assert "fatal error in worker" in job.hint  # the last log lines, shown to the user
    assert load_project(p.root).step("format").status == "failed"


def test_an_exception_in_a_step_becomes_a_failed_event(tmp_path):
    p = _project(tmp_path)
    job = jobs.submit(p.root, "format", run_count, CountRequest(project_root=str(p.root), n=10, raise_at=2))
    job = jobs.wait(job.run_dir, timeout=60)
    assert job.state == "failed" and "boom at tick 2" in job.reason
    events, _ = jobs.read_events(job.run_dir)
    assert any(e.level == "error" and "Traceback" in e.line for _, e in events if hasattr(e, "level"))


def test_bad_settings_fail_before_any_work(tmp_path):
    p = _project(tmp_path)
    job = jobs.submit(p.root, "format", run_count, CountRequest(project_root=str(p.root), n=0))
    job = jobs.wait(job.run_dir, timeout=60)
    assert job.state == "failed" and "N = 0 is outside" in job.reason and job.hint
    events, _ = jobs.read_events(job.run_dir)
    assert not any(isinstance(e, Progress) for _, e in events)


def _wait_progress(job, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        events, _ = jobs.read_events(job.run_dir)
        if any(isinstance(e, Progress) for _, e in events):
            return
        time.sleep(0.05)
    raise AssertionError("no progress")


def test_a_result_marked_stopped_leaves_the_step_pending(tmp_path):
    from engine.runner import drive
    from tests.helpers.steps import PartialRequest, run_partial

    p = _project(tmp_path)
    events = list(drive("asr", run_partial, PartialRequest(project_root=str(p.root))))
    assert isinstance(events[-1], Result)
    st = load_project(p.root).step("asr")
    assert st.status == "pending" and "resume" in st.message


def test_an_interrupted_inline_run_does_not_stay_running(tmp_path):
    from engine.runner import drive

    p = _project(tmp_path)
    stream = drive("asr", run_count, CountRequest(project_root=str(p.root), n=100, tick_s=0.0))
    next(stream)
    assert load_project(p.root).step("asr").status == "running"
    stream.close()  # what a KeyboardInterrupt in the consumer does to the generator
    st = load_project(p.root).step("asr")
    assert st.status == "pending" and "interrupted" in st.message
