"""Tiny-config SoVITS fine-tuning on CPU over a generated upstream-layout 1A folder: the mel
loss falls, a graceful stop and a hard kill both resume to the same step count, and the
exported weights synthesize audio of the expected length."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.events import Artifact, Log, Progress, Result, StopToken
from engine.models.sovits import load_sovits, reference_spec, synthesize
from engine.models.sovits.config import tiny_config
from engine.train.sovits.loop import run_sovits_training
from engine.train.sovits.request import SovitsTrainRequest

from .experiment import build_experiment, write_semantic

REPO = Path(__file__).resolve().parents[3]


def _request(root: Path, **kw) -> SovitsTrainRequest:
    base = dict(project_root=str(root), slug="demo", batch_size=2, epochs=6, save_every_epoch=1,
                learning_rate=2e-3, min_items_per_epoch=0, model_config=tiny_config().to_dict(),
                disc_width=16, device="cpu", threads=1, log_every=100)
    base.update(kw)
    return SovitsTrainRequest(**base)


def _run(req, stop=None, stop_after: int | None = None) -> list:
    events = []
    for ev in run_sovits_training(req, stop):
        events.append(ev)
        if stop_after is not None and isinstance(ev, Progress) and ev.done == stop_after:
            stop.request()
    return events


def _steps(events) -> list[int]:
    return [int(e.done) for e in events if isinstance(e, Progress)]


@pytest.mark.slow
def test_mel_falls_graceful_stop_resumes_and_export_synthesizes(tmp_path):
    build_experiment(tmp_path / "logs" / "demo", n=4)
    req = _request(tmp_path, epochs=9)  # 2 steps per epoch -> 18 steps
    stop = StopToken()
    first = _run(req, stop, stop_after=5)  # mid-epoch 3
    res = [e for e in first if isinstance(e, Result)][-1]
    assert res.data == {"stopped": True, "step": 5, "total": 18}
    second = _run(req)
    assert any(isinstance(e, Log) and "epoch 3, step 5" in e.line for e in second)
    assert _steps(first) + _steps(second) == list(range(1, 19))
    done = [e for e in second if isinstance(e, Result)][-1]
    assert done.data["step"] == 18 and not done.data["stopped"]

    # The mel loss falls well below where it started, and the resumed half stays below the
    # start (a resume from a fresh model would jump back up). A tiny GAN's late steps swing a
    # lot from run to run, so the last steps alone are not held to the 0.6 bar.
    mel = [e.metrics["loss_mel"] for e in first + second if isinstance(e, Progress)]
    start = np.mean(mel[:2])
    assert min(mel[2:]) < 0.6 * start, mel
    assert np.mean(mel[-5:]) < start and max(mel[5:]) < 1.1 * start, mel

    exports = [e.path for e in first + second if isinstance(e, Artifact) and e.kind == "sovits-weights"]
    assert exports[-1] == "SoVITS_weights/demo_e9_s18.pth"
    model = load_sovits(tmp_path / exports[-1], expect_version="v2")
    write_semantic(tmp_path / "logs" / "demo", model)
    row = (tmp_path / "logs" / "demo" / "6-name2semantic.tsv").read_text().splitlines()[1]
    codes = [int(c) for c in row.split("\t")[1].split()]
    import soundfile as sf

    ref, _ = sf.read(str(tmp_path / "logs" / "demo" / "5-wav32k" / "clip_00.wav"), dtype="float32")
    audio = synthesize(model, codes, [5, 6, 7, 8], reference_spec(ref))
    assert audio.dtype == np.float32 and audio.shape == (2 * len(codes) * 640,)
    assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0


_CHILD = """
import json, sys
from engine.events import Progress
from engine.train.sovits.loop import run_sovits_training
from engine.train.sovits.request import SovitsTrainRequest
req = SovitsTrainRequest(**json.loads(sys.argv[1]))
for ev in run_sovits_training(req):
    if isinstance(ev, Progress):
        print("STEP", int(ev.done), flush=True)
        sys.stdin.readline()  # the parent says when to go on, so the kill lands at step 5
"""


@pytest.mark.slow
def test_killed_run_resumes_from_last_checkpoint_to_same_step_count(tmp_path):
    build_experiment(tmp_path / "logs" / "demo", n=4)
    req = _request(tmp_path, epochs=4, save_every_epoch=2, save_latest_only=False)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-c", _CHILD, json.dumps(asdict(req))], cwd=REPO,
                             env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        for line in child.stdout:  # kill hard in epoch 3, after the epoch-2 checkpoint
            if line.strip() == "STEP 5":
                child.send_signal(signal.SIGKILL)
                break
            child.stdin.write("go\n")
            child.stdin.flush()
    finally:
        child.wait(timeout=60)
    folder = tmp_path / "logs" / "demo" / "logs_s2_v2"
    assert sorted(p.name for p in folder.glob("G_*.pth")) == ["G_4.pth"]
    assert not list(folder.glob(".*.tmp"))
    g = torch.load(folder / "G_4.pth", weights_only=True)
    assert g["iteration"] == 2 and g["gsv"]["step"] == 4 and "enc_q.pre.weight" in g["model"]
    assert list(g)[:4] == ["model", "iteration", "optimizer", "learning_rate"]  # upstream's layout

    events = _run(req)
    assert any(isinstance(e, Log) and "G_4.pth: epoch 3, step 4" in e.line for e in events)
    assert _steps(events) == [5, 6, 7, 8]
    assert sorted(p.name for p in folder.glob("G_*.pth")) == ["G_4.pth", "G_8.pth"]
    assert [e for e in events if isinstance(e, Result)][-1].data["step"] == 8


def test_missing_experiment_folder_is_a_step_error(tmp_path):
    from engine.events import StepError

    with pytest.raises(StepError, match="2-name2text.txt"):
        list(run_sovits_training(_request(tmp_path)))


def test_starts_from_upstream_pretrained_files(tmp_path, upstream_small_pth):
    from engine.models.sovits.checkpoint import read_sovits_file
    from engine.models.sovits.discriminator import MultiPeriodDiscriminator

    build_experiment(tmp_path / "logs" / "demo", n=2)
    d_path = tmp_path / "s2D_small.pth"
    torch.save({"weight": MultiPeriodDiscriminator(width=16).state_dict()}, d_path)
    req = _request(tmp_path, epochs=1, model_config={}, pretrained_g=str(upstream_small_pth),
                   pretrained_d=str(d_path), learning_rate=1e-4)
    events = _run(req)
    logs = [e.line for e in events if isinstance(e, Log)]
    assert "generator initialised from sovits_v2_small.pth" in logs
    assert any(line.startswith("discriminator initialised from s2D_small.pth (") for line in logs)
    assert _steps(events) == [1]
    out = read_sovits_file(tmp_path / "SoVITS_weights" / "demo_e1_s1.pth", expect_version="v2")
    assert out.config.inter_channels == 16 and out.hparams["model"]["upsample_initial_channel"] == 64
    assert out.info == "1epoch_1iteration"


def test_v1_model_trains_and_exports_as_v1(tmp_path):
    from engine.models.sovits.checkpoint import read_sovits_file

    build_experiment(tmp_path / "logs" / "demo", n=2)
    req = _request(tmp_path, epochs=1, version="v1", model_config=tiny_config("v1").to_dict())
    events = _run(req)
    assert _steps(events) == [1]
    out = read_sovits_file(tmp_path / "SoVITS_weights" / "demo_e1_s1.pth", expect_version="v1")
    assert out.weights["enc_p.text_embedding.weight"].shape[0] == 322
    assert (tmp_path / "logs" / "demo" / "logs_s2_v1" / "G_1.pth").exists()


def test_bf16_with_gradient_checkpointing_trains_on_cpu(tmp_path):
    """The runtime's bf16 autocast (no scaler) and the decoder's recomputation run a real
    training step end to end; the choices are logged."""
    build_experiment(tmp_path / "logs" / "demo", n=2)
    events = _run(_request(tmp_path, epochs=1, amp="bf16", grad_checkpoint="on"))
    logs = " ".join(getattr(e, "line", "") for e in events)
    assert "mixed precision: bf16" in logs and "gradient checkpointing on" in logs
    done = [e for e in events if isinstance(e, Progress)]
    assert done and all(math.isfinite(e.metrics.get("loss_mel", 0.0)) for e in done)
