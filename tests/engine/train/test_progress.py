"""The dashboard fold: curves stay bounded but span the whole run; stage, epoch/step and the
countdown come from the events the trainers and the job child write."""
from __future__ import annotations

from engine.events import Artifact, Log, Progress
from engine.train.progress import MAX_POINTS, Curve, TrainView


def test_curve_stays_bounded_and_keeps_the_whole_runs_shape():
    c = Curve()
    for i in range(10_000):
        c.add(float(i))
    assert len(c.points) <= MAX_POINTS
    assert c.points[0] < 100 and c.points[-1] > 9_000  # first and last part both present
    assert c.points == sorted(c.points)


def test_fold_reads_stage_epoch_step_relation_and_countdown():
    v = TrainView()
    v.feed(Progress("train", 3, 8, 7.5, "SoVITS epoch 2/2",
                    {"loss_mel": 30.0, "epoch": 2, "epochs": 2, "steps_per_epoch": 4,
                     "batch_size": 2, "s_per_step": 1.5}))
    assert v.current == "SoVITS" and v.stages["SoVITS"].epoch == 2
    assert v.relation("SoVITS") == ("1 step = one batch of 2 clips; 1 epoch = one pass over "
                                    "the data set = 4 steps")
    assert v.line() == "[SoVITS] epoch 2/2 step 3/8  mel 30 1.50 s/step ETA 0:07"
    v.feed(Log("resumed from logs/v/logs_s2_v2/G_3.pth: epoch 2, step 3"))
    assert v.stages["SoVITS"].resumed.endswith("epoch 2, step 3")
    v.feed(Progress("train", 1, 10, 9.0, "GPT epoch 1/2", {"loss_per_token": 7.0, "epoch": 1}))
    assert v.current == "GPT" and v.stages["SoVITS"].finished
    v.feed(Progress("train", 40, 60, 20.0, "then: poweroff", {"remaining_s": 20.0}))
    assert v.then.state == "waiting" and v.then.argv == "poweroff"
    assert v.line().startswith("then: `poweroff` in 20 s")


def test_a_resumed_stage_is_current_before_its_first_new_step():
    """A resumed run's stage is on screen from the resume line (loading a big checkpoint and
    the first step can take a while), at the step it resumes from; GPT's line too."""
    v = TrainView()
    v.feed(Log("resumed from logs/v/logs_s2_v2/G_3.pth: epoch 2, step 3"))
    st = v.stages["SoVITS"]
    assert v.current == "SoVITS" and (st.epoch, st.step) == (2, 3)
    g = TrainView()
    g.feed(Log("Resuming GPT training from e2.ckpt (epoch 3, batch 1)."))
    assert g.current == "GPT" and g.stages["GPT"].epoch == 3
    v.feed(Log("Resuming GPT training from e2.ckpt (epoch 3, batch 1)."))
    assert v.current == "SoVITS"  # GPT's turn comes with its first step, as before


def test_the_view_counts_the_files_the_job_reported():
    """The pane lists checkpoints anew when this count moves: the view may have read further
    than the poll's message, so the count, not the message, says a file came."""
    v = TrainView()
    v.feed(Progress("train", 2, 4, 1.0, "SoVITS epoch 1/2", {"epoch": 1}))
    assert v.artifacts == 0
    v.feed(Artifact("SoVITS_weights_v2/tiny_e1_s2.pth", "sovits"))
    assert v.artifacts == 1
