"""Playback through a real PulseAudio server with a null sink, started by the test."""
from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from engine.audio.playback import Player, choose_backend, diagnose
from tests.engine.proofread.pulse import Recorder, record_while, rms
from tests.helpers.speech import speak


def test_clip_arrives_at_the_null_sink(pulse, tmp_path):
    clip = speak("hello from the proofreader", tmp_path / "clip.wav")
    silent = record_while(lambda: None, 0.8, tmp_path / "silence")
    assert rms(silent) < 1e-3
    assert choose_backend() == "pulse" and diagnose(check_sounddevice=False) == []
    player = Player(workdir=tmp_path / "play")
    rec = Recorder(tmp_path / "heard")
    player.play(clip)
    player.wait(10)
    assert not player.playing  # the child exited by itself after the clip
    time.sleep(0.3)
    heard = rec.stop()
    player.close()
    assert rms(heard) > 0.02, f"no audio arrived (rms {rms(heard):.4f})"


def test_stop_cuts_playback_and_head_moves(pulse, tmp_path):
    clip = speak("a much longer sentence so that there is time to stop it early", tmp_path / "l.wav")
    player = Player(workdir=tmp_path / "play")
    ps = player.play(clip, start=0.5, speed=1.1)
    assert ps.backend == "pulse" and abs(ps.speed - 1.1) < 1e-9
    time.sleep(0.4)
    pos = player.position()
    assert player.playing and pos is not None and 0.6 < pos < 1.5
    player.stop()
    assert not player.playing and player.position() is None
    after = record_while(lambda: None, 0.5, tmp_path / "after")
    assert rms(after) < 1e-3
    player.close()


def test_dead_pulse_server_is_diagnosed_with_commands(monkeypatch):
    monkeypatch.setenv("PULSE_SERVER", "tcp:127.0.0.1:1")
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 5555 10.0.0.1 22")
    problems = diagnose(check_sounddevice=False)
    text = "\n".join(f for p in problems for f in p.fixes)
    assert any("does not answer" in p.summary for p in problems)
    assert "ssh -R 24713:127.0.0.1:4713" in text and "enable-memfd = no" in text
    assert "ssh -L 8765:127.0.0.1:8765" in text


def test_http_fallback_serves_the_clip_on_loopback(tmp_path, monkeypatch):
    clip = tmp_path / "c.wav"
    speak("web", clip)
    player = Player(backend="http", workdir=tmp_path / "play")
    player._backend = "http"  # as chosen when nothing else is reachable
    ps = player.play(clip)
    try:
        assert ps.url and ps.url.startswith("http://127.0.0.1:")
        body = urllib.request.urlopen(ps.url, timeout=5).read()
        assert body[:4] == b"RIFF" and len(body) > 1000
        bad = ps.url.rsplit("/", 2)[0] + "/wrong-token/" + ps.url.rsplit("/", 1)[1]
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(bad, timeout=5)
    finally:
        player.close()


def test_http_server_exits_when_its_parent_is_killed(tmp_path):
    """The clip server runs in its own session; SIGKILL of the editor must not orphan it."""
    import os
    import signal
    import subprocess
    import sys
    clip = speak("orphan", tmp_path / "o.wav")
    code = ("import sys, time; from engine.audio.playback import Player; "
            "p = Player(backend='http', workdir=sys.argv[2]); p.set_backend('http'); "
            "print(p.play(sys.argv[1]).url, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code, str(clip), str(tmp_path / "w")],
                              stdout=subprocess.PIPE, text=True)
    url = parent.stdout.readline().strip()
    assert urllib.request.urlopen(url, timeout=5).status == 200
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
        except OSError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the clip server outlived its parent")
    assert os.path.exists(tmp_path / "w" / ".port")


def test_a_dead_server_is_reported_by_the_exit_code(tmp_path, monkeypatch):
    """paplay against a server that is gone exits non-zero at once; the player says so."""
    from tests.engine.proofread.pulse import require_pulse
    require_pulse()
    monkeypatch.setenv("PULSE_SERVER", "tcp:127.0.0.1:1")
    player = Player(workdir=tmp_path / "p")
    player.set_backend("pulse")
    player.play(speak("gone", tmp_path / "g.wav"))
    player.wait(10)
    assert player.exit_code() not in (None, 0)
    player.close()


def test_its_own_folder_is_made_on_the_first_play_and_gone_after_close(tmp_path, monkeypatch):
    """A screen makes its player when it opens and may never play (or never be closed,
    when the app exits with it open): no folder until a clip plays, none after close()."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    clip = speak("web", tmp_path / "c.wav")
    Player(backend="http")
    assert list((tmp_path / "tmp").iterdir()) == []
    player = Player(backend="http")
    player.play(clip)
    made = list((tmp_path / "tmp").iterdir())
    assert len(made) == 1 and made[0].name.startswith("gsv-play-")
    player.close()
    assert list((tmp_path / "tmp").iterdir()) == []
