"""Fault tests for the speaker pass, with real processes and real files: a kill -9 in the
middle of writing an embedding, and a disk that fills up. Nothing already written is lost,
no half file ever carries a final name, and the next run does only what is left."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from engine.dataset.format import sv
from engine.diskfull import MB, DiskFull
from engine.events import Progress
from tests.engine.sv.exp_helpers import make_exp, tone
from tests.helpers.tmpfs import tmpfs_factory  # noqa: F401 -- fixture

REPO = Path(__file__).resolve().parents[3]

# The child runs the real pass; its second write stops halfway (temp file on disk, half the
# bytes in it), says so on stdout and waits to be killed.
_CHILD = textwrap.dedent("""
    import sys, tempfile, os
    from pathlib import Path
    import engine.atomic as atomic
    from engine.dataset.format import expdir, sv

    exp_root, ckpt = Path(sys.argv[1]), Path(sys.argv[2])
    real, calls = atomic.atomic_write_bytes, []

    def half_then_hang(path, data):
        calls.append(path)
        if len(calls) < 2:
            return real(path, data)
        fd, tmp = tempfile.mkstemp(prefix=f".{Path(path).name}.", suffix=".tmp",
                                   dir=Path(path).parent)
        os.write(fd, data[: len(data) // 2]); os.fsync(fd)
        print("HALF", Path(path).name, flush=True)
        sys.stdin.read()

    atomic.atomic_write_bytes = half_then_hang
    names = sys.argv[3:]
    records = [expdir.ClipRecord(n, audio_key=f"a1:{n}") for n in names]
    for _ in sv.run_sv(expdir.ExpDir(exp_root), records, model_path=ckpt, sv_path=str(ckpt),
                       device="cpu", half=False, step="format"):
        pass
""")


def _names(n: int) -> dict[str, object]:
    return {f"c{i}.wav": tone(0.3, 120 + 25 * i, i) for i in range(n)}


@pytest.mark.slow  # a child loading torch and the 215 MB model, then a second run
def test_kill_9_mid_write_loses_nothing_and_resumes(tmp_path, sv_ckpt):
    clips = _names(4)
    exp, records = make_exp(tmp_path / "exp", clips)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(exp.root), str(sv_ckpt),
                              *clips], cwd=REPO, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()  # the handshake: the second write is half done
        assert line.startswith("HALF c1.wav"), line
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    folder = exp.root / "7-sv_cn"
    assert [p.name for p in folder.glob("*.pt")] == ["c0.wav.pt"]  # no half file by name
    assert len(list(folder.glob(".c1.wav.pt.*.tmp"))) == 1  # the cut write's temp
    first = (folder / "c0.wav.pt").read_bytes()
    journal = (exp.root / "gsv-sv.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["name"] for x in journal] == ["c0.wav"]

    events = []
    gen = sv.run_sv(exp, records, model_path=sv_ckpt, sv_path=str(sv_ckpt), device="cpu",
                    half=False, step="format")
    try:
        while True:
            events.append(next(gen))
    except StopIteration as stop:
        out = stop.value
    assert (out.done, out.kept) == (3, 1)
    assert [e.message for e in events if isinstance(e, Progress)] == [
        "speaker c1.wav", "speaker c2.wav", "speaker c3.wav"]
    assert (folder / "c0.wav.pt").read_bytes() == first  # the finished clip untouched
    assert sorted(p.name for p in folder.iterdir()) == [f"c{i}.wav.pt" for i in range(4)]
    for name in clips:
        assert torch.load(folder / f"{name}.pt", weights_only=True).shape == (1, 20480)


def test_full_disk_is_a_sentence_and_growing_it_finishes(tmp_path, sv_ckpt, tmpfs_factory):
    clips = _names(3)
    root = tmp_path / "exp"
    # The clips (~19 kB each) and room for about one 84 kB embedding file.
    fs = tmpfs_factory(root, 3 * 24 * 1024 + 120 * 1024)
    exp, records = make_exp(root, clips)
    gen = sv.run_sv(exp, records, model_path=sv_ckpt, sv_path=str(sv_ckpt), device="cpu",
                    half=False, step="format")
    try:
        for _ in gen:
            pass
        raise AssertionError("the pass finished on a full disk")
    except DiskFull as exc:
        m = re.match(r"^disk full at (.+): free (\d+) MB and run again$", exc.reason)
        assert m and m[1] == str(root), exc.reason
        need = int(m[2])
    folder = root / "7-sv_cn"
    assert not [p for p in root.rglob("*") if p.suffix == ".tmp"]  # no half-written file
    done = [p.name for p in folder.glob("*.pt")]
    journaled = [json.loads(x)["name"] for x in
                 (root / "gsv-sv.jsonl").read_text(encoding="utf-8").splitlines()]
    assert 1 <= len(journaled) <= len(done) < len(clips)
    for name in journaled:  # what the journal says is done is whole on disk
        assert torch.load(folder / f"{name}.pt", weights_only=True).shape == (1, 20480)
    kept = {n: (folder / f"{n}.pt").read_bytes() for n in journaled}

    fs.resize(fs.used() + fs.free() + need * MB)
    gen = sv.run_sv(exp, records, model_path=sv_ckpt, sv_path=str(sv_ckpt), device="cpu",
                    half=False, step="format")
    progress = [e.message for e in gen if isinstance(e, Progress)]
    assert len(progress) == len(clips) - len(journaled)
    assert sorted(p.name for p in folder.iterdir()) == [f"{n}.pt" for n in sorted(clips)]
    assert all((folder / f"{n}.pt").read_bytes() == b for n, b in kept.items())
