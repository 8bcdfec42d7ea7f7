"""One run per step at a time, with real processes: a second start while a run holds the
step is refused with a sentence naming it (jobs, inline runs and the real `gsv` command
alike); a kill -9 of the holder frees the step; cancel works while a job is "starting"."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine import jobs
from engine.events import Failed, Result, StepError
from engine.project import create_project, load_project
from engine.runner import drive
from engine.steplock import holder, lock_path
from tests.engine.foundation.lock_steps import HoldRequest, run_hold, wait_for
from tests.helpers.steps import CountRequest, run_count

REPO = Path(__file__).resolve().parents[3]
GSV = Path(sys.executable).with_name("gsv")  # the installed console script, as a user runs it


def _setup(tmp_path):
    p = create_project(tmp_path / "p", "lock test")
    hs = tmp_path / "hs"
    hs.mkdir()
    return p, hs


def test_a_second_start_is_refused_naming_the_running_job(tmp_path):
    p, hs = _setup(tmp_path)
    first = jobs.submit(p.root, "train", run_hold, HoldRequest(str(p.root), str(hs)))
    try:
        wait_for(hs / "started")
        with pytest.raises(StepError) as err:
            jobs.submit(p.root, "train", run_count, CountRequest(project_root=str(p.root), n=1))
        assert err.value.reason.startswith(f"Train is already running (job {first.id}, started ")
        assert f"pid {first.pid})" in err.value.reason
        assert f"gsv jobs --follow {first.id} -C {p.root}" in err.value.hint
        assert f"gsv jobs --cancel {first.id} -C {p.root}" in err.value.hint
        assert [d.name for d in (p.root / "runs/train").iterdir() if d.is_dir()] == [first.id]
        note = json.loads(lock_path(p.root, "train").read_text())
        assert note["job"] == first.id and note["pid"] == first.pid and note["how"] == "job"

        # an inline run (the CLI's way) is refused too, and leaves the job's status alone
        events = list(drive("train", run_count, CountRequest(project_root=str(p.root), n=1)))
        assert len(events) == 1 and isinstance(events[0], Failed)
        assert events[0].reason == err.value.reason
        st = load_project(p.root).step("train")
        assert st.status == "running" and st.job == f"runs/train/{first.id}"

        # the lock is per step: another step runs meanwhile
        other = list(drive("asr", run_count, CountRequest(project_root=str(p.root), n=1, tick_s=0)))
        assert isinstance(other[-1], Result)
    finally:
        (hs / "release").touch()
    assert jobs.wait(first.run_dir, timeout=60).state == "done"
    assert holder(p.root, "train") is None
    again = jobs.submit(p.root, "train", run_count, CountRequest(project_root=str(p.root), n=1, tick_s=0))
    assert jobs.wait(again.run_dir, timeout=60).state == "done"


def test_an_inline_run_holds_the_step_against_a_job(tmp_path):
    p, hs = _setup(tmp_path)
    stream = drive("slice", run_hold, HoldRequest(str(p.root), str(hs)))
    next(stream)  # the step has started and holds the lock
    try:
        assert (hs / "started").exists()
        with pytest.raises(StepError) as err:
            jobs.submit(p.root, "slice", run_count, CountRequest(project_root=str(p.root), n=1))
        assert f"pid {os.getpid()})" in err.value.reason and "Ctrl-C" in err.value.hint
        assert holder(p.root, "slice").pid == os.getpid()
        status = subprocess.run([str(GSV), "status", "-C", str(p.root), "--json"], cwd=REPO,
                                capture_output=True, text=True, timeout=120)
        assert json.loads(status.stdout)["inline"] == [
            {"step": "slice", "pid": os.getpid(), "how": holder(p.root, "slice").how}]
    finally:
        (hs / "release").touch()
    assert isinstance(list(stream)[-1], Result)
    assert holder(p.root, "slice") is None


def test_kill_9_of_the_holder_frees_the_step(tmp_path):
    p, hs = _setup(tmp_path)
    first = jobs.submit(p.root, "format", run_hold, HoldRequest(str(p.root), str(hs)))
    wait_for(hs / "started")
    with pytest.raises(StepError, match="Format is already running"):
        jobs.submit(p.root, "format", run_count, CountRequest(project_root=str(p.root), n=1))
    os.kill(first.pid, signal.SIGKILL)
    assert jobs.wait(first.run_dir, timeout=30).state == "failed"  # seen dead, not running
    assert holder(p.root, "format") is None
    second = jobs.submit(p.root, "format", run_count, CountRequest(project_root=str(p.root), n=2, tick_s=0))
    second = jobs.wait(second.run_dir, timeout=60)
    assert second.state == "done" and load_project(p.root).step("format").status == "done"


_BLOCKED_GSV = textwrap.dedent("""
    import os, pathlib, sys
    import engine.runner as runner
    from tests.engine.foundation.lock_steps import wait_for

    real_call = runner._call
    hs = pathlib.Path(sys.argv[1])

    def gated(func, request, stop):  # the step starts only when the test says so
        (hs / "started").write_text(str(os.getpid()))
        wait_for(hs / "release")
        return real_call(func, request, stop)

    runner._call = gated
    sys.argv = [sys.argv[3], "slice", "-C", sys.argv[2]]  # what the console script sees
    from gsv_tui.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def _gsv(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GSV), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def test_two_gsv_slice_at_once_the_second_is_refused(tmp_path):
    p, hs = _setup(tmp_path)
    raw = p.root / "audio/raw"
    raw.mkdir(parents=True)
    t = np.arange(32000 * 3) / 32000
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)  # sound, gap
    sf.write(str(raw / "take.wav"), tone.astype(np.float32), 32000)
    first = subprocess.Popen([sys.executable, "-c", _BLOCKED_GSV, str(hs), str(p.root), str(GSV)], cwd=REPO,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_for(hs / "started", timeout=120)
        second = _gsv("slice", "-C", str(p.root))
        assert second.returncode != 0
        assert "Slice is already running (started " in second.stderr, second.stderr
        assert f"pid {first.pid})" in second.stderr and f"by `gsv slice -C {p.root}`" in second.stderr
        assert "Traceback" not in second.stderr
        assert not (p.root / "audio/slices").exists() or not any((p.root / "audio/slices").iterdir())
    finally:
        first.kill()  # kill -9 of the holder: the kernel drops its lock
        first.wait()
    assert holder(p.root, "slice") is None
    third = _gsv("slice", "-C", str(p.root))
    assert third.returncode == 0, third.stderr
    assert any((p.root / "audio/slices").glob("*.wav"))
    assert load_project(p.root).step("slice").status == "done"


def test_cancel_right_after_submit_while_starting(tmp_path, monkeypatch):
    p, hs = _setup(tmp_path)
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv("GSV_TEST_IMPORT_GATE", str(gate))  # the child never gets past its imports
    job = jobs.submit(p.root, "asr", run_hold, HoldRequest(str(p.root), str(hs)))
    assert job.state == "starting"
    t0 = time.monotonic()
    job = jobs.cancel(job.run_dir, grace=30)
    assert time.monotonic() - t0 < 10  # ended at once, not after the grace period
    assert job.state == "cancelled" and "before it started" in job.reason
    assert not Path(f"/proc/{job.pid}").exists() or "Z" in Path(f"/proc/{job.pid}/stat").read_text().split()[2]
    assert holder(p.root, "asr") is None
    assert load_project(p.root).step("asr").status == "pending"
    assert not (hs / "started").exists()


def test_cancel_while_the_step_imports(tmp_path, monkeypatch):
    p, hs = _setup(tmp_path)
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv("GSV_TEST_IMPORT_GATE", str(gate))
    job = jobs.submit(p.root, "asr", run_hold, HoldRequest(str(p.root), str(hs)))
    wait_for(gate / "importing")  # the child is alive, importing the step's modules
    job = jobs.load_job(job.run_dir)
    assert job.state == "starting" and job.pid == int((gate / "importing").read_text())
    with pytest.raises(StepError, match="Transcribe is already running"):  # it holds the step
        jobs.submit(p.root, "asr", run_count, CountRequest(project_root=str(p.root), n=1))
    job = jobs.cancel(job.run_dir, grace=30)
    assert job.state == "cancelled" and "before it started" in job.reason
    assert holder(p.root, "asr") is None


_RACER = textwrap.dedent("""
    import pathlib, sys
    from engine import jobs
    from engine.events import StepError
    from tests.engine.foundation.lock_steps import HoldRequest, run_hold, wait_for

    root, hs, me = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
    (hs / f"ready-{me}").touch()
    wait_for(hs / "go")  # every racer submits at the same moment
    try:
        job = jobs.submit(root, "train", run_hold, HoldRequest(root, str(hs)))
        print("started", job.id)
    except StepError as exc:
        print("refused", exc.reason)
""")


def test_racing_submits_start_exactly_one_run(tmp_path):
    p, hs = _setup(tmp_path)
    racers = [subprocess.Popen([sys.executable, "-c", _RACER, str(p.root), str(hs), str(k)],
                               cwd=REPO, stdout=subprocess.PIPE, text=True) for k in range(4)]
    try:
        for k in range(4):
            wait_for(hs / f"ready-{k}", timeout=60)
        (hs / "go").touch()
        outs = [r.communicate(timeout=60)[0] for r in racers]
        started = [o for o in outs if o.startswith("started")]
        assert len(started) == 1, outs
        job_id = started[0].split()[1]
        assert all(f"(job {job_id}," in o for o in outs if o.startswith("refused")), outs
    finally:
        (hs / "release").touch()
    run_dirs = [d for d in (p.root / "runs/train").iterdir() if d.is_dir()]
    assert [d.name for d in run_dirs] == [job_id]
    assert jobs.wait(run_dirs[0], timeout=60).state == "done"
