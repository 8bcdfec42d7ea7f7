"""Headless training with real processes: `gsv train --follow` prints stage/epoch/loss/ETA
lines and `gsv status` the resume point; SIGTERM to a running training (inline `gsv train`,
or a detached job) saves a checkpoint and the next run resumes from it. Each run is held at
a known SoVITS step by a gate (tests/engine/train/gated.py), so the signal lands mid-run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine import jobs
from engine.project import load_project
from engine.requests import build_request
from engine.train.sovits.checkpoints import read_manifest
from tests.engine.train.tiny import make_project, train_args, train_inputs, train_overrides

REPO = Path(__file__).resolve().parents[3]


def _env(**extra) -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", **extra)


def gsv(*args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gsv_tui.cli", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=_env(), **kw)


def _manifest_steps(root: Path) -> list[int]:
    m = read_manifest(root / "logs" / "tiny" / "logs_s2_v2")
    return [e.step for e in m.pairs] if m else []


@pytest.mark.slow  # two real tiny trainings in subprocesses
def test_follow_prints_training_lines_and_status_shows_the_resume_point(tmp_path):
    root = make_project(tmp_path / "voice")
    before = gsv("status", "-C", root)
    assert "SoVITS starts from the pretrained base; GPT starts from the pretrained base" in before.stdout
    out = gsv("train", "-C", root, "--follow", *train_args())
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert "stage SoVITS: 1 step = one batch of 2 clips; 1 epoch = one pass over the data set = 2 steps" in lines
    sovits = [ln for ln in lines if ln.startswith("[SoVITS] epoch 2/2 step 4/4  mel ")]
    assert sovits and " kl " in sovits[0] and "s/step ETA 0:00" in sovits[0]
    assert any(ln.startswith("stage GPT: 1 step = one batch of 8 utterances") for ln in lines)
    assert any(ln.startswith("[GPT] epoch 2/2 step 26/26  cross-entropy ") for ln in lines)
    assert lines[-1].endswith(": done")
    after = gsv("status", "-C", root)
    assert ("SoVITS has finished its 2 epochs (step 4); GPT has finished its 2 epochs (step 26)"
            in after.stdout), after.stdout
    resume = json.loads(gsv("status", "-C", root, "--json").stdout)["train_resume"]
    assert resume["SoVITS"]["state"] == resume["GPT"]["state"] == "finished"


def _held(gate: Path, proc: subprocess.Popen) -> None:
    """Block until the training reaches the gate (or the process died trying)."""
    while not (gate / "at-3").exists():
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        threading.Event().wait(0.02)


@pytest.mark.slow
def test_sigterm_to_inline_gsv_train_saves_and_the_next_run_resumes(tmp_path):
    root = make_project(tmp_path / "voice")
    gate = tmp_path / "gate"
    gate.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "tests.engine.train.gated", "train", "-C",
                             str(root), *train_args()], cwd=REPO, text=True,
                            env=_env(GSV_TEST_GATE=f"{gate}:3"), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _held(gate, proc)
        assert _manifest_steps(root) == [2]  # epoch 1 saved; now held before step 3
        proc.send_signal(signal.SIGTERM)
        for line in proc.stderr:  # the handler has run: the stop is requested
            if "stopping after the current item" in line:
                break
        else:
            raise AssertionError("gsv train ended without handling SIGTERM")
        (gate / "go").touch()
        proc.wait(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 1  # stopped, not done
    assert _manifest_steps(root) == [3, 2]  # the step it was on, saved
    assert load_project(root).step("train").status == "pending"
    again = gsv("train", "-C", root, *train_args())
    assert again.returncode == 0, again.stderr
    assert "resumed from logs/tiny/logs_s2_v2/G_3.pth: epoch 2, step 3" in again.stderr


@pytest.mark.slow
def test_sigterm_to_a_training_job_saves_and_the_next_run_resumes(tmp_path, monkeypatch):
    root = make_project(tmp_path / "voice")
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv("GSV_TEST_GATE", f"{gate}:3")
    project = load_project(root)
    req = build_request(project, "train", train_overrides(), inputs=train_inputs())
    job = jobs.submit(root, "train", "tests.engine.train.gated:run_train_gated", req)
    while not (gate / "at-3").exists():
        assert jobs.load_job(job.run_dir).active, jobs.tail_log(job.run_dir)
        threading.Event().wait(0.02)
    canceller = threading.Thread(target=jobs.cancel, args=(job.run_dir,), kwargs={"grace": 120})
    canceller.start()  # SIGTERM, as a cloud instance gets before it is shut down
    while jobs.load_job(job.run_dir).state != "stopping":
        threading.Event().wait(0.02)
    (gate / "go").touch()
    canceller.join(timeout=150)
    assert jobs.load_job(job.run_dir).state == "cancelled"
    assert _manifest_steps(root) == [3, 2]
    monkeypatch.delenv("GSV_TEST_GATE")
    again = gsv("train", "-C", root, *train_args())
    assert again.returncode == 0, again.stderr
    assert "resumed from logs/tiny/logs_s2_v2/G_3.pth: epoch 2, step 3" in again.stderr
