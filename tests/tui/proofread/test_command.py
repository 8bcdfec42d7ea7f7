"""`gsv proofread` on a bare upstream .list and on bad targets (real subprocesses)."""
from __future__ import annotations

import subprocess
import sys

from tests.tui.proofread.test_kill_reopen import REPO, PtyApp


def gsv(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gsv_tui.cli", "proofread", *args], cwd=REPO,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                          **kw)


def test_bad_target_and_no_terminal(tmp_path):
    r = gsv(str(tmp_path / "missing.list"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = gsv(str(tmp_path))  # a folder that is no project
    assert r.returncode == 2 and "not a gsv project" in r.stderr
    lst = tmp_path / "x.list"
    lst.write_text("a.wav|s|EN|hi\n")
    r = gsv(str(lst))  # no TTY: refuses with the hint instead of hanging, writes nothing
    assert r.returncode == 2 and "ssh -t" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.list"]


def test_opens_a_bare_upstream_list_on_a_terminal(tmp_path, gsv_home):
    import os
    from tests.engine.proofread.conftest import tone
    wav = tone(tmp_path / "w" / "a.wav", 1.0)
    lst = tmp_path / "up.list"
    lst.write_bytes(f"{wav}|spk|ZH|你好\r\nbroken\r\n".encode())
    env = {**os.environ, "TERM": "xterm-256color", "GSV_HOME": str(gsv_home)}
    app = PtyApp([sys.executable, "-m", "gsv_tui.cli", "proofread", str(lst), "--backend",
                  "http"], env)
    app.wait_for(lambda: b"reviewed" in app.out)
    app.keys("\r")  # accept the clip
    journal = tmp_path / "up.list.journal.jsonl"
    app.wait_for(lambda: journal.exists() and journal.read_text().count('"edit"') == 1)
    app.keys("q")
    _, status = os.waitpid(app.pid, 0)
    os.close(app.fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert lst.read_bytes() == f"{wav}|spk|ZH|你好\r\nbroken\r\n".encode()  # accept: same text
