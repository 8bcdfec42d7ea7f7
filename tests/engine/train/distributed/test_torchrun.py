"""Real torchrun runs of the tiny models on CPU (gloo, 2 ranks) through the Train step:
both stages train to the end under 2 ranks, their checkpoints resume in one process and one
process's resume under 2 ranks; SIGTERM to one rank stops every rank at the same step after
a save; kill -9 of one rank ends the whole job with a sentence, in bounded time, leaving no
process behind. Ranks are held at a known step by tests/engine/train/distributed/gated_worker.py."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import torch

from engine import jobs
from engine.events import Log, Progress, Result
from engine.models.gpt.weights import load_gpt
from engine.models.sovits.checkpoint import read_sovits_file
from engine.project import load_project
from engine.requests import build_request
from engine.steplock import lock_path
from engine.train.gpt.state import load_state, saved_states
from engine.train.sovits.checkpoints import read_manifest
from engine.train.step import run_train
from tests.engine.train.tiny import make_project, train_inputs, train_overrides

REPO = Path(__file__).resolve().parents[4]
GATED = "tests.engine.train.distributed.gated_worker"


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the ranks import the gated worker
    monkeypatch.setenv("GSV_DDP_TIMEOUT_S", "120")  # a backstop only: torchrun acts first


def _request(root: Path, processes: int, sovits: int, gpt: int, stages: str = "both", **gpt_extra):
    ov = dict(train_overrides(sovits_epochs=sovits, gpt_epochs=gpt), processes=processes,
              stages=stages)
    inputs = train_inputs()
    inputs["gpt"] = {**inputs["gpt"], **gpt_extra}
    return build_request(load_project(root), "train", ov, inputs=inputs)


def _train(root: Path, processes: int, sovits: int, gpt: int, **gpt_extra) -> list[str]:
    events = list(run_train(_request(root, processes, sovits, gpt, **gpt_extra)))
    assert isinstance(events[-1], Result), events[-5:]
    return [e.line for e in events if isinstance(e, Log)]


def _sovits_pairs(root: Path) -> list[int]:
    m = read_manifest(root / "logs" / "tiny" / "logs_s2_v2")
    return [e.step for e in m.pairs] if m else []


def _g(root: Path, step: int) -> dict:
    return torch.load(root / "logs" / "tiny" / "logs_s2_v2" / f"G_{step}.pth", weights_only=True)


@pytest.mark.slow  # two torchrun launches (3 torch imports each) and two in-process runs
def test_two_ranks_train_to_the_end_and_resume_across_world_sizes(tmp_path):
    root = make_project(tmp_path / "voice")
    # one process: SoVITS epoch 1 (2 steps), GPT paused after 5 of its 13 batches
    _train(root, 1, sovits=1, gpt=2, max_batches=5)
    assert _sovits_pairs(root) == [2]
    gpt_dir = root / "logs" / "tiny" / "logs_s1_v2" / "gsv"
    assert [p.name for p in saved_states(gpt_dir)] == ["epoch=0-step=5.pt"]

    # two ranks resume those and train both stages to the end (1 SoVITS step an epoch now)
    lines = _train(root, 2, sovits=2, gpt=2)
    assert any("SoVITS: 2 CPU processes (gloo) under torchrun" in ln for ln in lines)
    assert "resumed from logs/tiny/logs_s2_v2/G_2.pth: epoch 2, step 2" in lines
    assert any(ln.startswith("Resuming GPT training from epoch=0-step=5.pt (epoch 1, batch 3)")
               for ln in lines), lines  # 5 of 13 batches alone = 2.5 of 7 per rank
    assert "SoVITS: SoVITS training finished: 3 steps, 2 epochs" in lines
    assert "GPT: GPT trained for 2 epochs; weights in GPT_weights." in lines
    assert _sovits_pairs(root) == [3, 2]
    two, one = _g(root, 3), _g(root, 2)
    assert two["gsv"]["world_size"] == 2 and one["gsv"]["world_size"] == 1
    assert list(two["model"]) == list(one["model"])  # the same file, no 'module.' prefix
    assert len(two["optimizer"]["state"]) == len(one["optimizer"]["state"])
    state = load_state(saved_states(gpt_dir)[0])
    assert (state.epoch, state.batch, state.world) == (2, 0, 2)
    assert not any(k.startswith("module.") for k in state.model)
    assert read_sovits_file(root / "SoVITS_weights" / "tiny_e2_s3.pth", "v2").weights
    assert load_gpt(root / "GPT_weights" / "tiny-e2.ckpt").model is not None

    # and one process resumes what the two ranks wrote
    lines = _train(root, 1, sovits=3, gpt=3)
    assert "resumed from logs/tiny/logs_s2_v2/G_3.pth: epoch 3, step 3" in lines
    assert any(ln.startswith(f"Resuming GPT training from {saved_states(gpt_dir)[1].name} "
                             "(epoch 3, batch 1)") for ln in lines), lines
    assert "SoVITS: SoVITS training finished: 5 steps, 3 epochs" in lines
    assert (root / "GPT_weights" / "tiny-e3.ckpt").is_file()


def _wait_for(path: Path, alive, what: str, limit: float = 240.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + limit
    while not path.exists():
        assert alive(), f"{what} ended before reaching the gate"
        assert time.monotonic() < deadline, f"{what} never reached the gate"
        threading.Event().wait(0.02)


def _job_events(job) -> list[dict]:  # noqa: ANN001
    text = (job.run_dir / "events.jsonl").read_text(encoding="utf-8")
    return [json.loads(line)["event"] for line in text.splitlines()]


def _our_processes(marker: str) -> list[int]:
    """Live processes whose environment carries this test's gate (ranks, torchrun, job)."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                if marker.encode() in (d / "environ").read_bytes() and \
                        (d / "stat").read_text().split()[2] != "Z":
                    found.append(int(d.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_sigterm_to_one_rank_stops_every_rank_at_the_same_step_after_a_save(tmp_path, monkeypatch):
    root = make_project(tmp_path / "voice")
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv("GSV_TRAIN_WORKER", GATED)
    monkeypatch.setenv("GSV_TEST_GATE", f"{gate}:1:3")  # rank 1, before its step 3
    events: list = []
    t = threading.Thread(target=lambda: events.extend(
        run_train(_request(root, 2, sovits=6, gpt=2, stages="sovits"))))
    t.start()
    _wait_for(gate / "at-3", t.is_alive, "the 2-rank SoVITS training")
    os.kill(int((gate / "at-3").read_text()), signal.SIGTERM)  # rank 1 only
    (gate / "go").touch()
    t.join(timeout=120)
    assert not t.is_alive()
    lines = [e.line for e in events if isinstance(e, Log)]
    assert "stopped after step 3; training resumes from here" in lines  # rank 0 saved step 3
    assert "SoVITS: SoVITS training stopped at step 3 of 6" in lines
    assert not isinstance(events[-1], Result)  # the step stopped, it did not finish
    assert [e.done for e in events if isinstance(e, Progress)][-1] == 3
    assert _sovits_pairs(root) == [3, 2]
    assert "exit code" not in (root / "runs/train/ddp/sovits/torchrun.log").read_text()


@pytest.mark.slow
def test_kill_9_of_one_rank_fails_the_whole_job_with_a_sentence_and_no_hang(tmp_path, monkeypatch):
    root = make_project(tmp_path / "voice")
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv("GSV_TRAIN_WORKER", GATED)
    monkeypatch.setenv("GSV_TEST_GATE", f"{gate}:1:2")  # rank 1 has done step 1 (epoch 1 saved)
    job = jobs.submit(root, "train", "engine.train.step:run_train",
                      _request(root, 2, sovits=6, gpt=2, stages="sovits"))
    alive = lambda: jobs.load_job(job.run_dir).active  # noqa: E731
    _wait_for(gate / "at-2", alive, "the training job")
    deadline = time.monotonic() + 120
    while _sovits_pairs(root) != [1]:  # rank 0 saves epoch 1, then waits for rank 1 in step 2
        assert alive() and time.monotonic() < deadline, jobs.tail_log(job.run_dir)
        threading.Event().wait(0.02)
    # torchrun holds the step lock too: no new run can start while a rank may still write
    lock = lock_path(root, "train").stat()
    started = next(e for e in _job_events(job) if "under torchrun (pid" in e.get("line", ""))
    torchrun = int(started["line"].split("under torchrun (pid ")[1].split(")")[0])
    held = [os.stat(f"/proc/{torchrun}/fd/{fd}") for fd in os.listdir(f"/proc/{torchrun}/fd")]
    assert (lock.st_dev, lock.st_ino) in {(h.st_dev, h.st_ino) for h in held}
    os.kill(int((gate / "at-2").read_text()), signal.SIGKILL)
    killed = time.monotonic()
    while jobs.load_job(job.run_dir).active:  # rank 0 waits in a collective: it must not hang
        assert time.monotonic() - killed < 60, "the job still runs a minute after a rank died"
        threading.Event().wait(0.05)
    info = jobs.load_job(job.run_dir)
    assert info.state == "failed"
    assert info.reason.startswith("SoVITS training stopped: training "
                                  "process 2 of 2 (rank 1) was killed by signal 9 (SIGKILL); "
                                  "the other processes were stopped with it."), info.reason
    assert "it resumes from the last checkpoint" in info.hint
    assert "runs/train/ddp/sovits/torchrun.log" in info.hint
    while _our_processes(str(gate)):  # rank 0, torchrun and the job process end too
        assert time.monotonic() - killed < 60, _our_processes(str(gate))
        threading.Event().wait(0.05)
    assert _sovits_pairs(root) == [1]  # the last checkpoint is untouched
