"""GPT training never loses its last good state: a kill -9 in the middle of a save, a
truncated newest state, NaN losses and a full disk (a real tmpfs) each leave a state to
resume from, and the run says what happened in a sentence."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.events import Log, Progress, StepError
from engine.train.gpt.request import GptTrainRequest
from engine.train.gpt.state import load_state, state_dir
from engine.train.gpt.trainer import run_gpt_training
from tests.engine.gpt.onea import TINY_MODEL, make_1a
from tests.helpers.tmpfs import tmpfs_factory  # noqa: F401 -- fixture

REPO = Path(__file__).resolve().parents[3]
PER_EPOCH = 24  # 8 clips x 12 (upstream's small-set repeat) / batch 4


def request(root: Path, **kw) -> GptTrainRequest:
    base = dict(epochs=2, batch_size=4, save_every=10, model=TINY_MODEL, learning_rate=0.02,
                accumulate=1)
    return GptTrainRequest(str(root), "voice", **{**base, **kw})


def _folder(root: Path) -> Path:
    return state_dir(root / "logs" / "voice", "v2")


def _states(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _newest(folder: Path) -> Path:
    return max(folder.glob("epoch=*.pt"), key=lambda p: load_state(p).global_batch)


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _logs(events) -> list[str]:
    return [e.line for e in events if isinstance(e, Log)]


def _first_done(events) -> int:
    return int(next(e.done for e in events if isinstance(e, Progress)))


def test_kill_during_a_state_save_resumes_from_the_previous_state(tmp_path):
    make_1a(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    child = subprocess.Popen([sys.executable, "-m", "tests.engine.gpt.slow_save", str(tmp_path),
                              "3", "2"], cwd=REPO, env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()  # the second state's bytes are written, not renamed
        assert line.startswith("MIDWRITE"), (line, child.stderr.read()[-3000:])
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    folder = _folder(tmp_path)
    assert any(n.endswith(".tmp") for n in _states(folder))  # the kill landed mid-save

    events = list(run_gpt_training(request(tmp_path, epochs=3)))
    logs = _logs(events)
    assert any(line.startswith("removed .epoch=2-step=48.pt.") for line in logs), logs
    assert "Resuming GPT training from epoch=1-step=24.pt (epoch 2, batch 1)." in logs
    assert _first_done(events) == PER_EPOCH + 1
    assert not [n for n in _states(folder) if n.endswith(".tmp")]
    assert _states(folder) == ["epoch=2-step=48.pt", "epoch=3-step=72.pt"]


def test_truncated_newest_state_falls_back_to_the_previous_one(tmp_path):
    make_1a(tmp_path)
    list(run_gpt_training(request(tmp_path, epochs=2)))
    folder = _folder(tmp_path)
    newest = _newest(folder)
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2])

    events = list(run_gpt_training(request(tmp_path, epochs=3)))
    logs = _logs(events)
    assert any(line.startswith(f"The saved training state {newest.name} cannot be read") and
               line.endswith(f"kept as {newest.name}.unreadable") for line in logs), logs
    assert any("resuming from the previous state logs/voice/logs_s1_v2/gsv/epoch=1-step=24.pt"
               in line for line in logs), logs
    assert _first_done(events) == PER_EPOCH + 1
    assert (folder / f"{newest.name}.unreadable").stat().st_size == len(data) // 2  # kept


def test_nan_losses_are_skipped_and_stop_the_run_after_the_limit(tmp_path, monkeypatch):
    from engine.train.gpt import losses

    make_1a(tmp_path)
    list(run_gpt_training(request(tmp_path, epochs=1)))
    folder = _folder(tmp_path)
    before = {n: _sha(folder / n) for n in _states(folder)}
    real = losses.ce_sum
    monkeypatch.setattr(losses, "ce_sum", lambda *a: real(*a) * float("nan"))

    events = []
    with pytest.raises(StepError) as err:
        for ev in run_gpt_training(request(tmp_path, epochs=3, bad_step_limit=3)):
            events.append(ev)
    assert "diverged at epoch 2" in err.value.reason and "3 batches in a row" in err.value.reason
    assert "last saved state is logs/voice/logs_s1_v2/gsv/epoch=1-step=24.pt" in err.value.hint
    skipped = [line for line in _logs(events) if "skipped (" in line]
    assert len(skipped) == 3, _logs(events)
    assert {n: _sha(folder / n) for n in _states(folder)} == before


def test_full_disk_during_a_state_save_is_a_sentence_and_keeps_the_old_state(tmp_path,
                                                                               tmpfs_factory):
    fs = tmpfs_factory(_folder(tmp_path), 16 << 20)  # the state folder on a small disk
    folder = fs.path
    make_1a(tmp_path)
    list(run_gpt_training(request(tmp_path, epochs=1)))
    before = {n: _sha(folder / n) for n in _states(folder)}
    size = sum((folder / n).stat().st_size for n in before)
    fs.resize((fs.used() + size // 2) // 4096 * 4096 + 4096)

    with pytest.raises(StepError) as err:
        list(run_gpt_training(request(tmp_path, epochs=2)))
    assert err.value.reason.startswith(f"disk full at {folder}: free ")
    assert err.value.reason.endswith(" MB and run again")
    assert {n: _sha(folder / n) for n in _states(folder)} == before  # no partial file

    fs.resize(16 << 20)
    events = list(run_gpt_training(request(tmp_path, epochs=2)))
    assert "Resuming GPT training from epoch=1-step=24.pt (epoch 2, batch 1)." in _logs(events)
