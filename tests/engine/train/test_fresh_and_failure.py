"""Start fresh never loses a checkpoint (moved aside byte for byte, refused while a training
holds the step), and failures read as one sentence with a fix, from the job's own words."""
from __future__ import annotations

import hashlib
import os
import time

import pytest

from engine.events import StepError
from engine.project import create_project, load_project, set_step_settings
from engine.steplock import Holder, StepLock
from engine.train.failure import explain, oom_error
from engine.train.fresh import set_aside
from engine.train.plan import Clip, DataSummary, make_plan
from engine.requests import build_request


def _digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and p.suffix in (".pth", ".ckpt", ".pt", ".json")}


@pytest.fixture
def trained(tmp_path):
    p = create_project(tmp_path / "v", "Fresh", slug="v")
    exp = p.layout.exp_dir
    files = {"logs/v/logs_s2_v2/G_8.pth": b"g" * 100, "logs/v/logs_s2_v2/D_8.pth": b"d" * 90,
             "logs/v/logs_s2_v2/checkpoints.json": b'{"format": "x"}',
             "logs/v/logs_s1_v2/gsv/epoch=3-step=30.pt": b"s" * 50,
             "SoVITS_weights/v_e4_s8.pth": b"w" * 70, "GPT_weights/v-e3.ckpt": b"c" * 60}
    for rel, data in files.items():
        (p.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (p.root / rel).write_bytes(data)
    (exp / "2-name2text.txt").write_text("", encoding="utf-8")
    set_step_settings(p.root, "synthesize", {"sovits_path": "SoVITS_weights/v_e4_s8.pth"})
    return p


def test_start_fresh_moves_every_checkpoint_aside_byte_for_byte(trained):
    root = trained.root
    before = _digest(root)
    done = set_aside(root, "v", "v2")
    after = _digest(root)
    assert sorted(before.values()) == sorted(after.values())  # nothing lost or changed
    assert len(done.moved) == 4  # two training folders and two exports
    for src, dest in done.moved:
        assert not (root / src).exists() and (root / dest).exists()
    assert "nothing deleted" in done.sentence()
    plan = make_plan(trained.layout, "v2", build_request(load_project(root), "train", {"device": "cpu"}))
    assert plan.resume["SoVITS"].state == plan.resume["GPT"].state == "base"
    # Synthesize's chosen weights follow the file to where it now is.
    moved = dict(done.moved)["SoVITS_weights/v_e4_s8.pth"]
    assert load_project(root).step_settings("synthesize")["sovits_path"] == moved
    assert (root / moved).read_bytes() == b"w" * 70


def test_start_fresh_is_refused_while_a_training_holds_the_step(trained):
    root = trained.root
    before = _digest(root)
    with StepLock.acquire(root, "train", Holder(pid=os.getpid(), started=time.time(), how="gsv train")):
        with pytest.raises(StepError) as err:
            set_aside(root, "v", "v2")
    assert "gsv train" in err.value.reason + err.value.hint
    assert _digest(root) == before  # refused before touching anything


def test_out_of_memory_sentence_names_the_batch_to_use_and_the_longest_clips():
    data = DataSummary(3, 20.0, [Clip("long.wav", 12.5), Clip("mid.wav", 6.0)])
    e = oom_error("GPT", 8, data)
    assert e.reason == "GPT training ran out of GPU memory at batch size 8."
    assert e.hint.startswith("Lower the GPT batch size to 4 (--gpt-batch-size 4")
    assert "long.wav (12.5 s), mid.wav (6.0 s)" in e.hint
    one = oom_error("SoVITS", 1, data)
    assert "even at batch size 1" in one.reason and "long.wav" in one.hint


@pytest.mark.parametrize("reason,log,kind", [
    ("SoVITS training failed: SoVITS training diverged: the loss was not a number for 10 steps",
     [], "nan"),
    ("disk full at /x/logs: free 12 MB and run again", [], "disk"),
    ("The model gsv-v2final-pretrained is not on this machine.", [], "pretrained"),
    ("The job's process ended without reporting a result.", ["epoch 1 step 3", "Killed"], "killed"),
    ("The job's process ended without reporting a result.",
     ["RuntimeError: CUDA error: out of memory"], "oom"),
    ("OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", [], "oom"),
    ("Something else entirely.", [], "other"),
])
def test_failures_are_classified_from_the_jobs_own_words(reason, log, kind):
    c = explain(reason, "a hint", log)
    assert c.kind == kind
    assert c.sentence and "Traceback" not in c.sentence
    if kind in ("killed", "oom"):
        assert "resumes from the last checkpoint" in c.fix
