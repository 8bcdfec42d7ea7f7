"""SoVITS training never loses its last good checkpoint: a kill -9 in the middle of a save,
a truncated newest checkpoint, a NaN loss and a full disk (a real tmpfs) each leave a pair
to resume from, and the run says what happened in a sentence."""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from engine.events import Log, Progress, StepError
from engine.models.sovits.config import tiny_config
from engine.train.sovits.loop import run_sovits_training
from engine.train.sovits.request import SovitsTrainRequest

from tests.helpers.tmpfs import tmpfs_factory  # noqa: F401 -- fixture

from .experiment import build_experiment

REPO = Path(__file__).resolve().parents[3]


def _request(root: Path, **kw) -> SovitsTrainRequest:
    base = dict(project_root=str(root), slug="demo", batch_size=2, epochs=2, save_every_epoch=1,
                learning_rate=2e-3, min_items_per_epoch=0, model_config=tiny_config().to_dict(),
                disc_width=16, device="cpu", threads=1, log_every=100, export_every_save=False)
    base.update(kw)
    return SovitsTrainRequest(**base)


def _folder(root: Path) -> Path:
    return root / "logs" / "demo" / "logs_s2_v2"


def _logs(events) -> list[str]:
    return [e.line for e in events if isinstance(e, Log)]


def _steps(events) -> list[int]:
    return [int(e.done) for e in events if isinstance(e, Progress)]


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _gsv(p: Path) -> dict:
    return torch.load(p, map_location="cpu", weights_only=True)["gsv"]


def _newest_pair(folder: Path) -> tuple[Path, Path]:
    """The G with the highest step inside (whatever the product names it) and its D."""
    g = max(folder.glob("G_*.pth"), key=lambda p: _gsv(p)["step"])
    return g, g.with_name("D_" + g.name[2:])


def _resumed_from(logs: list[str]) -> tuple[str, int]:
    found = [m for line in logs if (m := re.match(r"resumed from .*/(G_\d+\.pth): epoch \d+, "
                                                  r"step (\d+)$", line))]
    assert len(found) == 1, logs
    return found[0][1], int(found[0][2])


def _pair_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "checkpoints.json")


@pytest.mark.parametrize("kind", ["G", "D"])
def test_kill_during_a_save_resumes_from_the_previous_pair(tmp_path, kind):
    """kill -9 while the step-4 checkpoint's G (or D) file is half written: the run resumes
    from the complete step-2 pair (its G and D from one save), and what the killed save left
    is removed."""
    build_experiment(tmp_path / "logs" / "demo", n=4)
    req = _request(tmp_path, epochs=3)  # 2 steps per epoch: saves at steps 2, 4, 6
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    child = subprocess.Popen([sys.executable, "-m", "tests.engine.sovits.slow_save",
                              json.dumps(asdict(req)), kind, "4"], cwd=REPO, env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        line = child.stdout.readline()  # blocks until the stalled write is half-way
        assert line.startswith("MIDWRITE"), (line, child.stderr.read()[-3000:])
        folder = _folder(tmp_path)
        half = [p for p in folder.iterdir() if p.name.startswith(f".{kind}_") and p.stat().st_size]
        assert half, sorted(p.name for p in folder.iterdir())  # the kill lands mid-write
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL

    # What each file on disk holds now, before the resume touches anything.
    held = {p.name: _gsv(p) for p in folder.glob("[GD]_*.pth")}
    events = list(run_sovits_training(req))
    logs = _logs(events)
    g_name, step = _resumed_from(logs)
    g, d = held[g_name], held["D_" + g_name[2:]]
    assert step == g["step"] == d["step"] == 2  # the previous pair, G and D from one save
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert any(line.startswith(f"removed .{kind}_4.pth.") for line in logs), logs
    assert g["save_id"] == d["save_id"]
    assert g_name == "G_2.pth" and _steps(events) == [3, 4, 5, 6]
    assert _pair_files(folder) == ["D_4.pth", "D_6.pth", "G_4.pth", "G_6.pth"]
    manifest = json.loads((folder / "checkpoints.json").read_text())
    assert [e["step"] for e in manifest["pairs"]] == [6, 4] and manifest["pending"] == []


def test_truncated_newest_checkpoint_falls_back_to_the_previous_pair(tmp_path):
    build_experiment(tmp_path / "logs" / "demo", n=4)
    list(run_sovits_training(_request(tmp_path, epochs=2)))  # pairs of steps 4 and 2
    folder = _folder(tmp_path)
    g4, _ = _newest_pair(folder)
    data = g4.read_bytes()
    g4.write_bytes(data[: len(data) // 2])  # a copy cut short, a disk that lost the tail
    cut = g4.read_bytes()

    events = list(run_sovits_training(_request(tmp_path, epochs=3)))
    logs = _logs(events)
    assert _resumed_from(logs) == ("G_2.pth", 2)
    assert any(f"logs/demo/logs_s2_v2/{g4.name} (step 4) is unusable: {g4.name} has "
               f"{len(cut)} of the {len(data)} bytes" in line for line in logs), logs
    assert any("resumed from the previous checkpoint logs/demo/logs_s2_v2/G_2.pth (step 2)" in line
               for line in logs), logs
    assert _steps(events) == [3, 4, 5, 6]
    # The unreadable file is kept aside (never deleted), out of upstream's G_*.pth glob.
    assert (folder / "G_4.pth.unreadable").read_bytes() == cut
    assert _pair_files(folder) == ["D_4.pth", "D_4.pth.unreadable", "D_6.pth", "G_4.pth",
                                   "G_4.pth.unreadable", "G_6.pth"]


def test_truncated_newest_without_a_manifest_falls_back_too(tmp_path):
    """A folder from before the manifest (or from upstream): torch cannot read the cut file."""
    build_experiment(tmp_path / "logs" / "demo", n=4)
    list(run_sovits_training(_request(tmp_path, epochs=2, save_latest_only=False)))
    folder = _folder(tmp_path)
    (folder / "checkpoints.json").unlink(missing_ok=True)
    g4, _ = _newest_pair(folder)
    g4.write_bytes(g4.read_bytes()[:5000])
    events = list(run_sovits_training(_request(tmp_path, epochs=3, save_latest_only=False)))
    logs = _logs(events)
    assert _resumed_from(logs) == ("G_2.pth", 2)
    assert any(f"{g4.name} (step 4) is unusable: {g4.name} cannot be read" in line
               for line in logs), logs
    assert _steps(events) == [3, 4, 5, 6]


def test_nan_loss_skips_steps_keeps_the_good_checkpoint_and_stops(tmp_path, monkeypatch):
    from engine.train.sovits import loop

    build_experiment(tmp_path / "logs" / "demo", n=4)
    list(run_sovits_training(_request(tmp_path, epochs=1)))  # the good pair: step 2
    folder = _folder(tmp_path)
    good = torch.load(_newest_pair(folder)[0], weights_only=True)["model"]
    real_kl = loop.kl_loss
    # From here on the generator's loss diverges (NaN, still attached to the graph).
    monkeypatch.setattr(loop, "kl_loss", lambda *a: real_kl(*a) * float("nan"))

    events = []
    with pytest.raises(StepError) as err:
        for ev in run_sovits_training(_request(tmp_path, epochs=5, bad_step_limit=3)):
            events.append(ev)
    assert "diverged" in err.value.reason and "3 steps in a row" in err.value.reason
    assert "step 5" in err.value.reason
    assert "last good checkpoint is logs/demo/logs_s2_v2/G_4.pth (step 4)" in err.value.hint
    warnings = [e.line for e in events if isinstance(e, Log) and e.level == "warning"]
    assert len(warnings) == 3 and all("step skipped" in w for w in warnings), warnings
    assert _steps(events) == [3, 4]  # the third bad step in a row ends the run
    # Every checkpoint on disk is finite, and the skipped steps taught the model nothing.
    manifest = json.loads((folder / "checkpoints.json").read_text())
    assert [e["step"] for e in manifest["pairs"]] == [4, 2]
    for step in (2, 4):
        sd = torch.load(folder / f"G_{step}.pth", weights_only=True)["model"]
        assert all(torch.isfinite(v).all() for v in sd.values() if v.is_floating_point())
        assert all(torch.equal(sd[k], good[k]) for k in good)
        d = torch.load(folder / f"D_{step}.pth", weights_only=True)["model"]
        assert all(torch.isfinite(v).all() for v in d.values() if v.is_floating_point())


def test_full_disk_during_a_save_is_a_sentence_and_keeps_the_previous_pair(tmp_path,
                                                                           tmpfs_factory):
    fs = tmpfs_factory(_folder(tmp_path), 64 << 20)  # the checkpoint folder on a small disk
    folder = fs.path
    build_experiment(tmp_path / "logs" / "demo", n=4)
    list(run_sovits_training(_request(tmp_path, epochs=1)))  # pair of step 2 on the tmpfs
    before = {p.name: _sha(p) for p in _newest_pair(folder)}
    pair = sum((folder / n).stat().st_size for n in before)
    fs.resize((fs.used() + pair // 2 + 8192) // 4096 * 4096)  # room for half of the next pair

    events = []
    with pytest.raises(StepError) as err:
        for ev in run_sovits_training(_request(tmp_path, epochs=2)):
            events.append(ev)
    assert {n: _sha(folder / n) for n in before} == before
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert err.value.reason.startswith(f"disk full at {folder}: free ")
    assert err.value.reason.endswith(" MB and run again")
    mb = int(err.value.reason.split("free ")[1].split(" MB")[0])
    assert 1 <= mb <= 2 * pair / 2**20 + 1
    assert any("last good checkpoint is logs/demo/logs_s2_v2/G_2.pth (step 2)" in line
               for line in _logs(events))
    # No partial file, the previous pair byte for byte, the manifest still naming it.
    assert _pair_files(folder) == ["D_2.pth", "G_2.pth"]
    assert {n: _sha(folder / n) for n in before} == before
    manifest = json.loads((folder / "checkpoints.json").read_text())
    assert [e["step"] for e in manifest["pairs"]] == [2]

    fs.resize(64 << 20)  # space freed: the run goes on from the kept pair
    events = list(run_sovits_training(_request(tmp_path, epochs=2)))
    assert "resumed from logs/demo/logs_s2_v2/G_2.pth: epoch 2, step 2" in _logs(events)
    assert _steps(events) == [3, 4]
