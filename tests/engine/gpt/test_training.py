"""GPT training on a synthetic 1A folder: loss falls, exports load, stop/kill + resume, DPO."""
from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
import shutil
from pathlib import Path

import pytest
import torch

from engine.events import Artifact, Log, Progress, Result, StepError, StopToken
from engine.models.gpt import load_gpt
from engine.train.gpt.request import GptTrainRequest
from engine.train.gpt.state import latest_state, load_state, state_dir
from engine.train.gpt.trainer import run_gpt_training
from tests.engine.gpt.onea import TINY_MODEL, make_1a

REPO = Path(__file__).resolve().parents[3]


def request(root: Path, **kw) -> GptTrainRequest:
    base = dict(epochs=2, batch_size=4, save_every=2, model=TINY_MODEL, learning_rate=0.02,
                accumulate=1)
    return GptTrainRequest(str(root), "voice", **{**base, **kw})


def run(req, stop=None):
    events = list(run_gpt_training(req, stop))
    return events, [e for e in events if isinstance(e, Progress)]


def test_loss_falls_and_weights_are_exported(tmp_path):
    make_1a(tmp_path)
    events, prog = run(request(tmp_path))
    losses = [p.metrics["loss_per_token"] for p in prog]
    assert len(losses) == 48  # 8 clips x 12 (upstream's small-set repeat) / batch 4, 2 epochs
    assert statistics.mean(losses[-8:]) < 0.6 * statistics.mean(losses[:8])
    m = prog[-1].metrics
    assert {"epoch", "step", "loss", "top3_acc", "lr", "s_per_step"} <= set(m)
    assert prog[-1].done == prog[-1].total == 48 and prog[-1].eta_s == 0
    art = [e for e in events if isinstance(e, Artifact)]
    assert [a.path for a in art] == ["GPT_weights/voice-e2.ckpt"]
    w = load_gpt(tmp_path / art[0].path)
    assert w.info == "GPT-e2" and w.config.hidden_dim == 32
    assert w.full_config["train"]["exp_name"] == "voice"
    assert isinstance(events[-1], Result) and events[-1].data["steps"] == 48


def test_graceful_stop_saves_state_and_resume_finishes(tmp_path):
    make_1a(tmp_path)
    stop = StopToken()
    seen = 0
    for ev in run_gpt_training(request(tmp_path), stop):
        if isinstance(ev, Progress):
            seen += 1
            if seen == 30:
                stop.request()
        last = ev
    assert isinstance(last, Result) and last.data["stopped"] and seen == 30
    st = load_state(latest_state(state_dir(tmp_path / "logs" / "voice", "v2")))
    assert (st.epoch, st.batch, st.global_batch) == (1, 6, 30)
    events, prog = run(request(tmp_path))
    assert any(isinstance(e, Log) and "Resuming" in e.line for e in events)
    assert len(prog) == 18 and prog[0].done == 31 and prog[-1].metrics["step"] == 48
    assert events[-1].data["exports"] == ["GPT_weights/voice-e2.ckpt"]
    again, prog = run(request(tmp_path))  # finished runs say so instead of training again
    assert not prog and "already finished" in again[-1].summary


def test_killed_run_resumes_from_its_last_saved_state(tmp_path):
    make_1a(tmp_path)
    code = ("import sys; from engine.train.gpt.trainer import run_gpt_training;"
            "from tests.engine.gpt.test_training import request;"
            "from pathlib import Path;"
            "[print(type(e).__name__, flush=True) for e in run_gpt_training("
            "request(Path(sys.argv[1]), epochs=50))]")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    folder = state_dir(tmp_path / "logs" / "voice", "v2")
    deadline = time.monotonic() + 90
    try:
        while latest_state(folder) is None and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.3)  # let it get into the next epoch before the kill
    finally:
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    saved = load_state(latest_state(folder))
    assert saved.epoch >= 1 and saved.batch == 0
    events, prog = run(request(tmp_path, epochs=50, max_batches=3))
    assert any(isinstance(e, Log) and f"epoch {saved.epoch + 1}, batch 1" in e.line for e in events)
    assert prog[0].done == saved.epoch * 24 + 1 and prog[0].metrics["step"] == saved.global_batch + 1
    assert events[-1].data["stopped"]


def test_dpo_mode_runs_and_lowers_its_loss(tmp_path):
    make_1a(tmp_path)
    events, prog = run(request(tmp_path, dpo=True, batch_size=8, epochs=1, save_every=1))
    assert len(prog) == 24  # batch 8 halved to 4 for DPO
    dpo = [p.metrics["dpo_loss"] for p in prog]
    ce = [p.metrics["loss_per_token"] for p in prog]
    assert statistics.mean(dpo[-6:]) < statistics.mean(dpo[:6])
    assert statistics.mean(ce[-6:]) < statistics.mean(ce[:6])
    assert all(p.metrics["loss"] >= p.metrics["dpo_loss"] for p in prog)


def test_changed_settings_and_missing_data_are_refused(tmp_path):
    with pytest.raises(StepError, match="2-name2text.txt is missing"):
        run(request(tmp_path))
    make_1a(tmp_path)
    run(request(tmp_path, max_batches=2))
    with pytest.raises(StepError, match="different settings") as err:
        run(request(tmp_path, accumulate=2))
    assert "delete" in err.value.hint
    with pytest.raises(StepError, match="different model"):
        run(request(tmp_path, model={**TINY_MODEL, "n_layer": 1}))
    with pytest.raises(StepError, match="outside"):
        run(request(tmp_path, epochs=0))


def test_pretrained_weights_start_the_run(tmp_path, small_ckpt):
    make_1a(tmp_path)
    events, prog = run(request(tmp_path, pretrained=str(small_ckpt), max_batches=2, model={}))
    assert len(prog) == 2 and torch.isfinite(torch.tensor(prog[-1].metrics["loss"]))


def test_mixed_precision_path_trains(tmp_path):
    """bf16 autocast on CPU exercises the same code path as 16-bit mixed on a GPU."""
    make_1a(tmp_path)
    events, prog = run(request(tmp_path, precision="bf16-mixed", max_batches=3))
    assert len(prog) == 3 and all(torch.isfinite(torch.tensor(p.metrics["loss"])) for p in prog)


def test_gradient_checkpointing_trains_the_same_batches(tmp_path):
    """Checkpointing recomputes layers in backward: the run says so, and its losses are the
    plain run's (same seeds, same dropout draws)."""
    make_1a(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # the same data set
    _, plain = run(request(tmp_path / "a", max_batches=3))
    events, recomputed = run(request(tmp_path / "b", max_batches=3, grad_checkpoint="on"))
    assert any("gradient checkpointing on" in getattr(e, "line", "") for e in events)
    assert [round(p.metrics["loss"], 4) for p in recomputed] == \
        [round(p.metrics["loss"], 4) for p in plain]
