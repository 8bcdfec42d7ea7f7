"""The clip server's token keeps other local users away from the clips; it must not be
readable where every local user can look: the server's command line (/proc/<pid>/cmdline)."""
from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio.playback import Player


def test_the_token_is_not_on_the_command_line_and_still_opens_the_clip(tmp_path):
    clip = tmp_path / "c.wav"
    sf.write(clip, 0.1 * np.sin(np.arange(16000) / 10.0), 16000)
    player = Player(backend="http", workdir=tmp_path / "play")
    ps = player.play(clip)
    try:
        token = ps.url.rsplit("/", 2)[1]
        assert len(token) >= 16
        server = player._http
        assert server is not None and server.poll() is None
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert b"httpserve" in cmdline  # the right process
        assert token.encode() not in cmdline
        environ = Path(f"/proc/{server.pid}/environ").read_bytes()
        assert token.encode() not in environ
        body = urllib.request.urlopen(ps.url, timeout=5).read()
        assert body[:4] == b"RIFF" and len(body) > 1000
        wrong = ps.url.replace(token, "x" * len(token))
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(wrong, timeout=5)
    finally:
        player.close()
