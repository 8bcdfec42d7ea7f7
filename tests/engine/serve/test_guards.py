"""What guards the server before and around synthesis, without loading a voice: the
loopback rule (a real ``gsv serve`` process), the token file, the per-request time limit."""
from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.events import StepError
from engine.serve.config import ServeConfig, check_bind
from engine.serve.params import ApiError
from engine.serve.auth import load_or_create, token_path
from engine.serve.worker import Job, VoiceQueue

REPO = Path(__file__).resolve().parents[3]


def gsv_serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gsv_tui.cli", "serve", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.com"])
def test_a_non_loopback_bind_is_refused_without_the_flag(host, tmp_path):
    out = gsv_serve("-C", str(tmp_path), "--host", host, "--port", "0")
    assert out.returncode == 2
    assert f"will not listen on {host}" in out.stderr and "--allow-remote" in out.stderr
    assert "ssh -L" in out.stderr and "Traceback" not in out.stderr
    assert not token_path().exists()  # refused before anything was written


def test_the_flag_lets_it_through_with_a_warning(tmp_path):
    # An empty folder: past the address check, it stops at "no project" (no model loads).
    out = gsv_serve("-C", str(tmp_path), "--host", "0.0.0.0", "--allow-remote", "--port", "0")
    assert "warning: listening on 0.0.0.0" in out.stderr and "ssh -L" in out.stderr
    assert out.returncode == 2 and "No project" in out.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_needs_no_flag(host):
    assert check_bind(ServeConfig(host=host)) is None
    with pytest.raises(StepError):
        check_bind(ServeConfig(host=host, port=70000))


def test_token_file_is_private_and_kept(gsv_home):
    first = load_or_create()
    path = token_path()
    assert first.path == path and path.parent.is_relative_to(gsv_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first.value) >= 32
    assert load_or_create().value == first.value  # a restart keeps clients working
    path.chmod(0o644)  # others could read it: it may have leaked
    second = load_or_create()
    assert second.value != first.value and "others" in second.note
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(renew=True).value != second.value
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left
    tok = load_or_create()
    assert tok.accepts(f"Bearer {tok.value}") and tok.accepts(f"bearer {tok.value}")
    for bad in (None, "", tok.value, f"Basic {tok.value}", f"Bearer {tok.value}x", "Bearer "):
        assert not tok.accepts(bad)


def test_the_time_limit_answers_504_and_stops_between_pieces():
    release, spoken = threading.Event(), []

    def produce():  # the test's slow synthesis: held until released
        release.wait(60)
        spoken.append(1)
        yield b"first"
        spoken.append(2)
        yield b"second"

    voices = VoiceQueue("v", size=1)

    async def main():
        job = Job(produce, limit_s=0.3, loop=asyncio.get_running_loop())
        voices.submit(job)
        t0 = time.monotonic()
        answer = await job.next()
        return answer, time.monotonic() - t0

    answer, waited = asyncio.run(main())
    assert isinstance(answer, ApiError) and answer.status == 504 and 0.3 <= waited < 30
    assert "limit of 0.3 s" in answer.message
    release.set()
    end = time.monotonic() + 60
    while voices.served < 1:  # the worker finished with the job
        assert time.monotonic() < end
        time.sleep(0.01)
    assert spoken == [1]  # it stopped after the piece in progress, never began the next
    voices.stop()


def test_cli_refuses_bad_limits(tmp_path):
    for flags, words in ((["--queue", "0"], "--queue 0"), (["--timeout", "0"], "--timeout"),
                         (["--max-chars", "0"], "--max-chars 0")):
        out = gsv_serve("-C", str(tmp_path), *flags)
        assert out.returncode == 2 and words in out.stderr, out.stderr
    assert os.environ["GSV_HOME"]  # tests never touch the real config folder
