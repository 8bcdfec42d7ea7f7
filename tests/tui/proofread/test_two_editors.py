"""Fault test: one editor per list. A second real `gsv proofread` on the same list is refused
with a sentence naming the first; a SIGKILLed editor frees the list at once."""
from __future__ import annotations

import os
import sys

import pytest

from engine.dataset.proofread.source import open_session
from tests.tui.proofread.conftest import journal_kinds
from tests.tui.proofread.test_kill_reopen import PtyApp, spawn


def _reaped(pid: int, into: list[int]) -> bool:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        into.append(status)
    return bool(done)


def test_second_editor_is_refused_and_a_kill_frees_the_list(project, gsv_home):
    first = spawn(project.root, gsv_home)
    try:
        env = {**os.environ, "TERM": "xterm-256color", "GSV_HOME": str(gsv_home),
               "TEXTUAL_ANIMATIONS": "none"}
        second = PtyApp([sys.executable, "-m", "gsv_tui.cli", "proofread", str(project.root),
                         "--backend", "http"], env)
        second.wait_for(lambda: b"already open" in second.out or b"reviewed" in second.out)
        if b"already open" not in second.out:
            second.kill9()
            pytest.fail("a second editor opened on the same list")
        exited: list[int] = []
        second.wait_for(lambda: exited or _reaped(second.pid, exited))
        os.close(second.fd)
        status = exited[0]
        text = bytes(second.out).decode("utf-8", "replace").replace("\r\n", " ")
        assert b"reviewed" not in second.out  # no second editor came up
        assert f"voice.list is already open in gsv proofread (pid {first.pid}" in text
        assert "Close that editor first" in text
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 2
        first.keys("\r")  # the first editor still works
        first.wait_for(lambda: "edit" in journal_kinds(project))
    finally:
        first.kill9()
    s = open_session(project.root)  # kill -9 released the lock
    assert s.clips[0].reviewed
    s.close()
