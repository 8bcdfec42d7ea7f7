"""`gsv train --then COMMAND`: after a real tiny training (GPT stage only, to be quick) the
command runs exactly once, after its countdown; never after a failure unless
--then-on-failure; `gsv jobs --cancel-then` during the countdown (which `gsv jobs --follow`
shows) stops it. The command is harmless: it appends the time to a file."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import jobs
from engine.jobs import then
from tests.engine.train.tiny import make_project, train_args

REPO = Path(__file__).resolve().parents[3]


def gsv(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gsv_tui.cli", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL,
                          env=dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1"))


def _gpt_only() -> list[str]:
    return ["--stages", "gpt", *train_args()]


def _stamp(out: Path) -> list[str]:
    return ["sh", "-c", f"date +%s.%N >> '{out}'"]


@pytest.mark.slow
def test_then_runs_once_after_the_countdown_only_on_success(tmp_path):
    root = make_project(tmp_path / "voice")
    out = tmp_path / "ran.txt"
    res = gsv("train", "-C", root, *_gpt_only(), "--then-delay-s", "1", "--then", *_stamp(out))
    assert res.returncode == 0, res.stderr
    stamps = out.read_text().split()
    assert len(stamps) == 1  # once
    state = then.read_state(root, "train")
    assert state["state"] == "ran" and state["returncode"] == 0
    assert float(stamps[0]) >= state["deadline"]  # not before the countdown ended
    assert "runs in 1 s" in res.stderr

    # A failed run (the data set is gone) never runs it …
    sem = root / "logs" / "tiny" / "6-name2semantic.tsv"
    sem.rename(sem.with_suffix(".away"))
    failed = gsv("train", "-C", root, *_gpt_only(), "--then-delay-s", "0", "--then", *_stamp(out))
    assert failed.returncode == 1 and "formatted data set is missing" in failed.stderr
    assert len(out.read_text().split()) == 1
    # … unless asked.
    asked = gsv("train", "-C", root, *_gpt_only(), "--then-delay-s", "0", "--then-on-failure",
                "--then", *_stamp(out))
    assert asked.returncode == 1
    assert len(out.read_text().split()) == 2


@pytest.mark.slow
def test_cancel_then_during_the_countdown_shown_by_jobs_follow(tmp_path):
    root = make_project(tmp_path / "voice")
    out = tmp_path / "ran.txt"
    res = gsv("train", "-C", root, *_gpt_only(), "--detach", "--then-delay-s", "600",
              "--then", *_stamp(out))
    assert res.returncode == 0, res.stderr
    follow = subprocess.Popen([sys.executable, "-m", "gsv_tui.cli", "jobs", "-C", str(root),
                               "--follow"], cwd=REPO, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        seen = []
        for line in follow.stdout:  # the countdown as `gsv jobs --follow` shows it
            seen.append(line)
            if "then: sh -c" in line:
                break
        else:
            raise AssertionError("".join(seen))
        assert then.waiting(root, "train") is not None
        cancel = gsv("jobs", "-C", root, "--cancel-then")
        assert cancel.returncode == 0 and "will not run" in cancel.stdout
        rest = follow.communicate(timeout=60)[0]
    finally:
        follow.kill()
        follow.wait()
    assert follow.returncode == 0, rest
    assert "will not run" in rest
    assert not out.exists()
    assert then.read_state(root, "train")["state"] == "cancelled"
    job = jobs.list_jobs(root, "train")[0]
    assert job.state == "done"
    assert json.loads((job.run_dir / "status.json").read_text())["then"] == "cancelled"
    again = gsv("jobs", "-C", root, "--cancel-then")
    assert again.returncode == 1  # nothing waits any more
