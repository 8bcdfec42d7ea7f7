"""What the Train dashboard looks like mid-run: the plan, stage 2 (GPT) with epoch/step and
their relation, loss curves for both stages, the checkpoint list and the newest log lines.

The run is a fixed events.jsonl in a run folder whose status names this test's own process
as the job (alive, so the app watches it as running); files, sizes, times and the time zone
are fixed, so the picture only changes when the dashboard does. Update the baseline with
`pytest --snapshot-update` after an intended change."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.events import Artifact, Log, Progress, event_to_dict
from engine.jobs.store import proc_start_time
from engine.project import create_project, set_step_settings
from gsv_tui.app import GsvApp
from tests.helpers.pilot import until

ROOT = Path("/tmp/gsv-snapshot-train/voice")
SIZE = (110, 62)
T0 = 1_700_000_000.0  # fixed mtimes and event times


def _events() -> list:
    evs = [Log("SoVITS: 2 epochs, batch 2 (set by you)"),
           Log("generator initialised from s2G2333k.pth")]
    for step in range(1, 9):
        epoch = (step - 1) // 4 + 1
        mel = 40 - 3 * step + (step % 3)
        evs.append(Progress("train", step, 8, (8 - step) * 1.5, f"SoVITS epoch {epoch}/2",
                            {"loss_disc": 2.8 - 0.1 * step, "loss_gen": 1.9 + 0.05 * (step % 2),
                             "loss_fm": 1.0 + 0.1 * step, "loss_mel": mel,
                             "loss_kl": 2.0 / step, "epoch": epoch, "epochs": 2,
                             "steps_per_epoch": 4, "batch_size": 2, "s_per_step": 1.5}))
        if step % 4 == 0:
            evs.append(Artifact(f"SoVITS_weights/voice_e{epoch}_s{step}.pth", "sovits-weights"))
    evs += [Log("SoVITS: SoVITS training finished: 8 steps, 2 epochs"),
            Log("GPT: 15 epochs, batch 2 (2 on CPU: small steps; CPU training is for trying things out)")]
    for step in range(1, 31):
        epoch = (step - 1) // 10 + 1
        evs.append(Progress("train", step, 150, (150 - step) * 0.4, f"GPT epoch {epoch}/15",
                            {"loss": 900 - 9 * step, "loss_per_token": 7.2 - 0.05 * step
                             + 0.1 * (step % 4), "top3_acc": 0.01 * step, "epoch": epoch,
                             "step": step, "epochs": 15, "steps_per_epoch": 10,
                             "batch_size": 2, "s_per_step": 0.4}))
        if step % 10 == 0:
            evs.append(Artifact(f"GPT_weights/voice-e{epoch}.ckpt", "gpt_weights"))
            evs.append(Log(f"Exported GPT weights GPT_weights/voice-e{epoch}.ckpt."))
    return evs


@pytest.fixture
def snap_run(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    shutil.rmtree(ROOT.parent, ignore_errors=True)
    p = create_project(ROOT, "Snapshot voice", language="en", slug="voice")
    set_step_settings(p.root, "train", {"device": "cpu", "sovits_epochs": 2,
                                        "sovits_batch_size": 2, "then": ["poweroff"]})
    exp = ROOT / "logs" / "voice"
    (exp / "5-wav32k").mkdir(parents=True)
    lines = []
    for i, seconds in enumerate((3.0, 4.5, 6.25, 2.0)):
        name = f"clip_{i:02d}.wav"
        sf.write(exp / "5-wav32k" / name, np.zeros(int(seconds * 32000), np.int16), 32000,
                 subtype="PCM_16")
        lines.append(f"{name}\tHH AH0 L OW1\tNone\tHello {i}")
    (exp / "2-name2text.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    weights = [("SoVITS_weights/voice_e1_s4.pth", 3), ("SoVITS_weights/voice_e2_s8.pth", 3),
               ("GPT_weights/voice-e1.ckpt", 5), ("GPT_weights/voice-e2.ckpt", 5),
               ("GPT_weights/voice-e3.ckpt", 5)]
    for i, (rel, mb) in enumerate(weights):
        f = ROOT / rel
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(b"\0" * (mb * 2**20))
        os.utime(f, (T0 + 600 * i, T0 + 600 * i))
    run = ROOT / "runs" / "train" / "20231114-221320-abcd"
    run.mkdir(parents=True)
    with open(run / "events.jsonl", "w", encoding="utf-8") as f:
        for i, ev in enumerate(_events()):
            f.write(json.dumps({"t": T0 + i, "event": event_to_dict(ev)}) + "\n")
    pid = os.getpid()  # alive for the whole test: the app treats the run as running
    (run / "status.json").write_text(json.dumps({
        "id": run.name, "step": "train", "state": "running", "started": T0,
        "project_root": str(ROOT), "pid": pid, "pstart": proc_start_time(pid)}))
    yield p
    shutil.rmtree(ROOT.parent, ignore_errors=True)


def test_train_dashboard_mid_run(snap_compare, snap_run):
    async def open_train(pilot):
        app = pilot.app
        app.goto_step("train")
        await pilot.pause()
        pane = app.wizard().pane("train")
        await until(pilot, lambda: pane.view.stages["GPT"].step == 30
                    and "Data set" in str(pane.query_one("#train-plan").render())
                    and pane.query_one("#train-ckpts").row_count == 5)
        await pilot.pause()

    assert snap_compare(GsvApp(ROOT), run_before=open_train, terminal_size=SIZE)
