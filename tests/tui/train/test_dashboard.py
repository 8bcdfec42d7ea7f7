"""The Train pane as a dashboard, driven with Pilot against real detached tiny training jobs:
the plan before a run, stage/epoch/step and loss curves while it runs (the job held at a
known step by a gate, so "while" is certain), the resume point after a stop and a restart,
the checkpoint list with listen and "use for synthesis", and a CUDA out-of-memory failure
explained in one sentence with its fix."""
from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from engine import jobs
from engine.project import load_project
from engine.requests import build_request, remember
from engine.train.plan import data_summary
from gsv_tui.app import GsvApp
from gsv_tui.widgets.checkpoint_list import CheckpointList
from tests.engine.train.tiny import SLUG, train_inputs, train_overrides
from tests.helpers.pilot import until

SIZE = (130, 60)
GATED = "tests.engine.train.gated:run_train_gated"
OOM = "tests.engine.train.gated:run_train_oom"


def _text(pane, wid: str) -> str:
    return str(pane.query_one(wid, Static).render())


def _request(root: Path, **kw):
    """The tiny run's request, its settings stored as a run from the pane would store them."""
    project = load_project(root)
    req = build_request(project, "train", {**train_overrides(), **kw}, inputs=train_inputs())
    remember(project, "train", req)
    return req


async def _open(app, pilot):
    app.goto_step("train")
    await pilot.pause()
    return app.wizard().pane("train")


@pytest.mark.slow  # a real training job: ~15-40 s on a busy 2-core box
async def test_plan_stage_curves_checkpoints_listen_and_use(tiny, gate):
    req = _request(tiny)
    app = GsvApp(tiny)
    async with app.run_test(size=SIZE) as pilot:
        pane = await _open(app, pilot)
        await until(pilot, lambda: "Data set: 4 clips" in _text(pane, "#train-plan"))
        plan = _text(pane, "#train-plan")
        longest = data_summary(tiny / "logs" / SLUG).longest[0]
        assert f"longest: {longest.name} ({longest.seconds:.1f} s)" in plan
        assert "Device: CPU" in plan
        assert "SoVITS: 2 epochs, batch 2 (set by you)" in plan
        assert "SoVITS starts from the pretrained base" in plan
        assert "GPT starts from the pretrained base" in plan

        folder = gate(3)  # the job waits before SoVITS step 3 until we say go
        job = app.start_job("train", req, target=GATED)
        await until(pilot, lambda: (folder / "at-3").exists(), timeout=120)
        # Held before step 3: steps 1 and 2 (all of epoch 1) are on screen, the job runs.
        await until(pilot, lambda: "step 2 of 4" in _text(pane, "#train-stage"))
        stage = _text(pane, "#train-stage")
        assert stage.startswith("Stage 1 of 2: SoVITS — epoch 1 of 2, step 2 of 4"), stage
        assert "s/step" in stage and "SoVITS ETA" in stage
        assert _text(pane, "#train-relation") == (
            "1 step = one batch of 2 clips; 1 epoch = one pass over the data set = 2 steps")
        mel = pane.view.stages["SoVITS"].curves["loss_mel"].points
        assert len(mel) == 2 and jobs.load_job(job.run_dir).active
        row = pane.query_one("#curve-loss_mel")
        assert "-empty" not in row.classes and "SoVITS mel:" in str(row.query_one("Label").render())
        # Epoch 1's export so far: written before the gate, listed by the poll that reads it
        # (which may come after the one that showed step 2).
        await until(pilot, lambda: pane.query_one(CheckpointList).row_count == 1)

        (folder / "go").touch()
        await until(pilot, lambda: "Stage 2 of 2: GPT" in _text(pane, "#train-stage"), timeout=120)
        await until(pilot, lambda: not jobs.load_job(job.run_dir).active, timeout=120)
        await until(pilot, lambda: _text(pane, "#train-outcome").startswith("✔"))
        assert "-empty" not in pane.query_one("#curve-loss_per_token").classes
        table = pane.query_one(CheckpointList)
        await until(pilot, lambda: table.row_count == 4)
        kinds = [table.get_row_at(i)[:3] for i in range(4)]
        assert kinds == [["SoVITS", "1", "2"], ["SoVITS", "2", "4"], ["GPT", "1", "—"],
                         ["GPT", "2", "—"]]
        await until(pilot, lambda: "SoVITS has finished its 2 epochs (step 4)"
                    in _text(pane, "#train-plan"))
        assert "GPT has finished its 2 epochs" in _text(pane, "#train-plan")

        # Use the first SoVITS export for synthesis: stored as Synthesize's setting.
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("u")
        stored = load_project(tiny).step_settings("synthesize")
        assert stored["sovits_path"] == "SoVITS_weights/tiny_e1_s2.pth"
        await until(pilot, lambda: table.get_row_at(0)[6] == "✔ used")

        # Listen starts the listen action as its own job.
        await pilot.press("l")
        await until(pilot, lambda: pane.listen_job is not None)
        assert pane.listen_job.step == "listen" and pane.job.run_dir == job.run_dir
        jobs.wait(pane.listen_job.run_dir, timeout=120)  # it ends (no BERT here): reap it


@pytest.mark.slow  # a real training job: ~15-40 s on a busy 2-core box
async def test_resume_point_after_stop_and_restart(tiny, gate):
    app = GsvApp(tiny)
    async with app.run_test(size=SIZE) as pilot:
        pane = await _open(app, pilot)
        folder = gate(3)
        job = app.start_job("train", _request(tiny), target=GATED)
        await until(pilot, lambda: (folder / "at-3").exists(), timeout=120)
        await until(pilot, lambda: pane.job is not None and pane.job.active)
        pane.stop_step()  # SIGTERM through the app, as the Stop button
        await until(pilot, lambda: jobs.load_job(job.run_dir).state == "stopping")
        (folder / "go").touch()  # step 3 runs, then the stop is seen: saved at step 3
        await until(pilot, lambda: not jobs.load_job(job.run_dir).active, timeout=120)
        assert jobs.load_job(job.run_dir).state == "cancelled"
        await until(pilot, lambda: "resumes SoVITS from epoch 2 (step 3)" in _text(pane, "#train-plan"))
        assert "GPT starts from the pretrained base" in _text(pane, "#train-plan")
        assert _text(pane, "#train-outcome").startswith("Stopped")

        # the resumed run waits before its first step (global step 4), so its SoVITS stage
        # is still the one on screen when we look (ungated, a fast run may be at GPT)
        (folder / "go").unlink()
        gate(1)
        again = app.start_job("train", _request(tiny), target=GATED)
        await until(pilot, lambda: (folder / "at-1").exists(), timeout=120)
        await until(pilot, lambda: pane.view.run_dir == again.run_dir
                    and pane.view.stages["SoVITS"].resumed != "", timeout=120)
        assert pane.view.stages["SoVITS"].resumed == (
            "resumed from logs/tiny/logs_s2_v2/G_3.pth: epoch 2, step 3")
        await until(pilot, lambda: "G_3.pth: epoch 2, step 3" in _text(pane, "#train-stage"))
        (folder / "go").touch()
        await until(pilot, lambda: not jobs.load_job(again.run_dir).active, timeout=120)
        assert jobs.load_job(again.run_dir).state == "done"


@pytest.mark.slow  # a real training job: ~15-40 s on a busy 2-core box
async def test_cuda_out_of_memory_is_one_sentence_with_its_fix(tiny, gate):
    app = GsvApp(tiny)
    async with app.run_test(size=SIZE) as pilot:
        pane = await _open(app, pilot)
        gate(2)  # SoVITS step 2 raises the GPU's out-of-memory error
        job = app.start_job("train", _request(tiny, sovits_batch_size=4), target=OOM)
        await until(pilot, lambda: not jobs.load_job(job.run_dir).active, timeout=120)
        await until(pilot, lambda: _text(pane, "#train-cause").startswith("✘"))
        names = [c.name for c in data_summary(tiny / "logs" / SLUG).longest]
        cause = _text(pane, "#train-cause")
        assert cause.startswith("✘ SoVITS training ran out of GPU memory at batch size 4.\n"
                                "  What to do: Lower the SoVITS batch size to 2 "
                                "(--sovits-batch-size 2, or in the settings), or cut or remove "
                                "the longest clips: "), cause
        assert all(n in cause for n in names) and "bug" not in cause
        assert "Traceback" not in cause


@pytest.mark.slow
async def test_then_countdown_shows_in_the_pane_and_c_cancels_it(tiny, tmp_path):
    out = tmp_path / "ran.txt"
    req = _request(tiny, stages="gpt", then=["sh", "-c", f"echo ran >> '{out}'"],
                   then_delay_s=600.0)
    app = GsvApp(tiny)
    async with app.run_test(size=SIZE) as pilot:
        pane = await _open(app, pilot)
        await until(pilot, lambda: "Then: runs `sh -c" in _text(pane, "#train-plan"))
        job = app.start_job("train", req)
        await until(pilot, lambda: "runs in" in _text(pane, "#train-then"), timeout=120)
        assert _text(pane, "#train-then").startswith("Training is over: `sh -c echo ran >> ")
        assert "-hidden" not in pane.query_one("#train-cancel-then").classes
        pane.query_one(CheckpointList).focus()
        await pilot.press("c")
        await until(pilot, lambda: not jobs.load_job(job.run_dir).active, timeout=60)
        await until(pilot, lambda: "will not run" in _text(pane, "#train-then"))
        assert jobs.load_job(job.run_dir).state == "done" and not out.exists()
        assert "-hidden" in pane.query_one("#train-cancel-then").classes
