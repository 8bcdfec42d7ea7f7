"""A real `gsv proofread` in a pseudo-terminal, killed with SIGKILL mid-session: nothing lost."""
from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path

from engine.dataset.proofread.journal import read_records
from engine.dataset.proofread.source import open_session
from tests.tui.proofread.conftest import journal_kinds, list_texts

REPO = Path(__file__).resolve().parents[3]


class PtyApp:
    """A child process on a pty of a fixed size; its output is drained in a thread."""

    def __init__(self, argv: list[str], env: dict[str, str], cols: int = 100, rows: int = 30):
        pid, fd = pty.fork()
        if pid == 0:  # child: size the terminal, then become the app
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.chdir(REPO)
            os.execve(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        self.out = bytearray()
        self._t = threading.Thread(target=self._drain, daemon=True)
        self._t.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.out += data

    def wait_for(self, pred, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not pred():
            assert time.monotonic() < deadline, f"timed out; screen tail: {bytes(self.out[-400:])!r}"
            time.sleep(0.05)

    def keys(self, *keys: str, gap: float = 0.25) -> None:
        for k in keys:  # one at a time: a burst can lose typed text (ecosystem notes §6)
            os.write(self.fd, k.encode())
            time.sleep(gap)

    def kill9(self) -> int:
        os.kill(self.pid, signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return status


def spawn(root: Path, gsv_home: Path) -> PtyApp:
    env = {**os.environ, "TERM": "xterm-256color", "GSV_HOME": str(gsv_home),
           "TEXTUAL_ANIMATIONS": "none", "ESCDELAY": "25"}
    app = PtyApp([sys.executable, "-m", "gsv_tui.cli", "proofread", str(root),
                  "--backend", "http"], env)
    app.wait_for(lambda: b"reviewed" in app.out)
    return app


def edits(lay) -> int:
    return sum(1 for k in journal_kinds(lay) if k != "base")


def test_sigkill_mid_session_loses_nothing(project, gsv_home):
    app = spawn(project.root, gsv_home)
    app.keys("j", "e", "\x05", *" KILLED", "\r")  # edit + accept clip 2
    app.wait_for(lambda: edits(project) == 1)
    app.keys("j", "d")  # row 3 after the malformed row: soft-delete "third one here"
    app.wait_for(lambda: edits(project) == 2)
    app.keys("m")  # merge "fourth" with "the last clip"
    app.wait_for(lambda: edits(project) == 3)
    status = app.kill9()
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL

    s = open_session(project.root)  # repairs the list if the kill beat its rewrite
    assert s.archived is None
    texts = list_texts(project)
    assert texts == ["hello there", "second clip KILLED", "a malformed line | with two pipes |",
                     "fourth the last clip"]
    assert s.clips[1].reviewed and s.clips[3].deleted and len(s.done) == 3
    assert s.render() == project.list_file.read_bytes()
    s.undo()  # history survived the kill too
    assert list_texts(project)[3:] == ["fourth", "the last clip"]
    s.close()

    # again, this time killed in the middle of a burst of edits: the list on disk always
    # matches the journal, and every edit the journal holds is in the list
    app = spawn(project.root, gsv_home)
    before = edits(project)
    app.keys("g", "1", "\r", "e", "\x05", *" again", "\r")
    app.wait_for(lambda: edits(project) == before + 1)
    for _ in range(8):
        app.keys("\r", gap=0.03)  # accept, accept, … while we kill
    app.keys("u", gap=0)
    app.kill9()
    s = open_session(project.root)
    assert s.render() == project.list_file.read_bytes()
    assert s.clips[0].text == "hello there again"
    assert read_records(project.proofread_journal)[0]["kind"] == "base"
