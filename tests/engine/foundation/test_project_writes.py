"""project.toml writes stay short: artefacts are hashed before the lock is taken, each once
and not again while unchanged; a busy lock is a ProjectError with a sentence; a job that
finishes while another process holds the file still ends up "done"."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from engine import jobs
from engine.events import Log
from engine.project import (LockTimeout, ProjectError, create_project, load_project, record_step,
                            update_project)
from tests.engine.foundation.lock_steps import HoldRequest, run_hold, wait_for

REPO = Path(__file__).resolve().parents[3]


def _python(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=REPO,
                            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


_SLOW_HASHER = """
    import hashlib, pathlib, sys, time
    from engine.project import record_step
    from tests.engine.foundation.lock_steps import wait_for

    hs, real = pathlib.Path(sys.argv[1]), hashlib.sha256

    class Slow:  # the first read of an artefact waits for the test: hashing "takes a while"
        def __init__(self, *a):
            self.h = real(*a)
        def update(self, data):
            if not (hs / "hashing").exists():
                (hs / "hashing").touch()
                wait_for(hs / "go")
            self.h.update(data)
        def hexdigest(self):
            return self.h.hexdigest()

    hashlib.sha256 = Slow
    record_step(sys.argv[2], "format", "done", artifacts=[(sys.argv[3], "features")])
"""


def test_hashing_happens_outside_the_project_lock(tmp_path):
    p = create_project(tmp_path / "p", "x")
    art = p.root / "logs" / "feat.bin"
    art.parent.mkdir(parents=True)
    art.write_bytes(os.urandom(1 << 20))
    hs = tmp_path / "hs"
    hs.mkdir()
    writer = _python(_SLOW_HASHER, str(hs), str(p.root), str(art))
    other = threading.Thread(target=update_project,
                             args=(p.root, lambda q: q.settings.update(slice={"min_length": 1})))
    try:
        wait_for(hs / "hashing", timeout=60)
        other.start()  # another writer (the TUI saving a setting) while the hashing goes on
        other.join(timeout=10)
        assert not other.is_alive(), "a project.toml write waited for another one's hashing"
    finally:
        (hs / "go").touch()
    assert writer.wait(60) == 0, writer.stderr.read()
    other.join()
    q = load_project(p.root)
    assert q.step_settings("slice") == {"min_length": 1}
    assert q.step("format").status == "done"
    assert q.step("format").artifacts[0].sha256 == hashlib.sha256(art.read_bytes()).hexdigest()


class _Counting:
    """Counts the file bytes every sha256 in this process reads (instrumentation, not a
    stand-in: the digests are real). A folder's hash also feeds in each file's name and
    64-character digest; those short updates are not file reads, so they are not counted
    (every file in the test is bigger than 64 bytes)."""

    read = 0

    def __init__(self, *a):
        self.h = _REAL_SHA256(*a)

    def update(self, data):
        if len(data) > 64:
            _Counting.read += len(data)
        self.h.update(data)

    def hexdigest(self):
        return self.h.hexdigest()


_REAL_SHA256 = hashlib.sha256


def _age(path: Path, seconds: float = 60) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_a_repeated_checkpoint_is_hashed_once_and_not_again_while_unchanged(tmp_path, monkeypatch):
    p = create_project(tmp_path / "p", "x")
    ckpt = p.root / "SoVITS_weights" / "voice_e1.pth"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(os.urandom(3 << 20))
    clips = p.root / "audio" / "slices"
    clips.mkdir(parents=True)
    for k in range(3):
        (clips / f"c{k}.wav").write_bytes(os.urandom(1000 + k))
        _age(clips / f"c{k}.wav")
    _age(ckpt)
    monkeypatch.setattr(hashlib, "sha256", _Counting)
    total = ckpt.stat().st_size + sum(f.stat().st_size for f in clips.iterdir())

    _Counting.read = 0
    record_step(p.root, "train", "done", artifacts=[(str(ckpt), "sovits")] * 5 + [(str(clips), "clips")])
    assert _Counting.read == total  # every byte once, though the checkpoint came five times
    arts = load_project(p.root).step("train").artifacts
    assert [a.path for a in arts] == ["SoVITS_weights/voice_e1.pth", "audio/slices"]
    assert arts[0].sha256 == _REAL_SHA256(ckpt.read_bytes()).hexdigest()
    record_step(p.root, "synthesize", "done")

    _Counting.read = 0
    record_step(p.root, "train", "done", artifacts=[(str(ckpt), "sovits"), (str(clips), "clips")])
    assert _Counting.read == 0  # unchanged since: nothing is read again
    assert load_project(p.root).step("synthesize").status == "done"

    data = bytearray(ckpt.read_bytes())
    data[100] ^= 0xFF  # same size, new content
    ckpt.write_bytes(bytes(data))
    _age(ckpt, 30)
    _Counting.read = 0
    record_step(p.root, "train", "done", artifacts=[(str(ckpt), "sovits"), (str(clips), "clips")])
    assert _Counting.read == ckpt.stat().st_size  # only the file that changed
    q = load_project(p.root)
    assert q.step("train").artifacts[0].sha256 == _REAL_SHA256(bytes(data)).hexdigest()
    assert q.step("synthesize").status == "stale"


_HOLDER = """
    import pathlib, sys
    from engine.project import update_project
    from tests.engine.foundation.lock_steps import wait_for

    hs = pathlib.Path(sys.argv[1])
    def slow(p):  # a writer that holds project.toml's lock until the test releases it
        (hs / "holding").touch()
        wait_for(hs / "release")
        p.settings["train"] = {"batch_size": 2}
    update_project(sys.argv[2], slow)
"""


def test_a_busy_project_file_is_a_project_error_naming_the_holder(tmp_path):
    p = create_project(tmp_path / "p", "x")
    hs = tmp_path / "hs"
    hs.mkdir()
    holder = _python(_HOLDER, str(hs), str(p.root))
    try:
        wait_for(hs / "holding", timeout=60)
        with pytest.raises(ProjectError) as err:
            update_project(p.root, lambda q: None, timeout=0.5)
        assert isinstance(err.value, LockTimeout)
        assert f"{p.root / 'project.toml'} is busy" in err.value.message
        assert f"pid {holder.pid}" in err.value.message and "gsv jobs -C" in err.value.hint
        with pytest.raises(ProjectError, match="is busy"):  # what a pane's status write meets
            record_step(p.root, "import", "done", timeout=0.5)
    finally:
        (hs / "release").touch()
    assert holder.wait(60) == 0, holder.stderr.read()
    assert load_project(p.root).step_settings("train") == {"batch_size": 2}


def test_a_job_that_ends_while_project_toml_is_busy_still_reads_done(tmp_path, monkeypatch):
    p = create_project(tmp_path / "p", "x")
    hs, lock_hs = tmp_path / "hs", tmp_path / "lock_hs"
    hs.mkdir()
    lock_hs.mkdir()
    monkeypatch.setenv("GSV_TEST_LOCK_TIMEOUT_S", "1")  # the job child meets the busy file fast
    job = jobs.submit(p.root, "train", run_hold, HoldRequest(str(p.root), str(hs), str(p.root / "out.txt")))
    holder = None
    try:
        wait_for(hs / "started", timeout=60)
        holder = _python(_HOLDER, str(lock_hs), str(p.root))
        wait_for(lock_hs / "holding", timeout=60)
        (hs / "release").touch()  # the step finishes while the file is held
        deadline = time.monotonic() + 30
        seen = False
        while not seen and time.monotonic() < deadline:
            events, _ = jobs.read_events(job.run_dir)
            seen = any(isinstance(e, Log) and "is busy" in e.line for _, e in events)
            time.sleep(0.05)
        assert seen, "the job's final record never met the busy file"
    finally:
        (hs / "release").touch()
        (lock_hs / "release").touch()
    assert holder.wait(60) == 0, holder.stderr.read()
    job = jobs.wait(job.run_dir, timeout=60)
    assert job.state == "done", (job.reason, job.hint)
    q = load_project(p.root)
    assert q.step("train").status == "done" and q.step("train").artifacts[0].path == "out.txt"
    assert q.step_settings("train") == {"batch_size": 2}  # the other writer's change too
