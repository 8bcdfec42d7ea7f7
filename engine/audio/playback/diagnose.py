"""Why no clip can be heard, and the exact commands that fix it (the recipes measured in
shared/notes/ecosystem.md §3). The editor's playback panel and ``gsv doctor`` show these."""
from __future__ import annotations

import getpass
import os
import secrets
import shutil
import socket
from dataclasses import dataclass, field

from engine.audio.playback.backends import (has_sound_card, pulse_client, pulse_reachable,
                                            sounddevice_ok)
from engine.audio.playback.player import HTTP_PORT


@dataclass(frozen=True)
class PlaybackProblem:
    summary: str  # one line: what is wrong
    detail: str = ""  # why it matters / what was checked
    fixes: list[str] = field(default_factory=list)  # commands, in order, with where to run them


def tunnel_target() -> str:
    """``user@host`` as the user would type it on the laptop for this box."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def tunnel_recipes(target: str | None = None) -> list[str]:
    """The three ways to hear this box's audio on the laptop the user sits at."""
    t = target or tunnel_target()
    sock = f"/tmp/pulse-{getpass.getuser()}-{secrets.token_hex(3)}.sock"  # stale ones block -R
    return [
        "# 1. TCP reverse tunnel (PulseAudio or PipeWire on the laptop)",
        "laptop$ pactl load-module module-native-protocol-tcp port=4713 listen=127.0.0.1 "
        "auth-anonymous=1",
        f"laptop$ ssh -R 24713:127.0.0.1:4713 {t}",
        "box$ export PULSE_SERVER=tcp:127.0.0.1:24713",
        "# 2. Unix-socket reverse tunnel (nothing to load on the laptop; SHM/memfd must be off)",
        f"laptop$ ssh -R {sock}:$XDG_RUNTIME_DIR/pulse/native {t}",
        "box$ printf 'enable-shm = no\\nenable-memfd = no\\n' > ~/.gsv-pulse-client.conf",
        f"box$ export PULSE_CLIENTCONFIG=~/.gsv-pulse-client.conf PULSE_SERVER=unix:{sock}",
        "# 3. Fallback without any audio forwarding: the clip server, in a browser",
        f"laptop$ ssh -L {HTTP_PORT}:127.0.0.1:{HTTP_PORT} {t}",
        f"laptop: open the http://127.0.0.1:{HTTP_PORT}/… link the editor shows for a clip",
    ]


def _unix_needs_shm_off(server: str) -> bool:
    if not server.startswith("unix:"):
        return False
    conf = os.environ.get("PULSE_CLIENTCONFIG", "")
    try:
        text = open(conf, encoding="utf-8").read() if conf else ""
    except OSError:
        text = ""
    flat = text.replace(" ", "")
    return "enable-shm=no" not in flat or "enable-memfd=no" not in flat


def diagnose(check_sounddevice: bool = True) -> list[PlaybackProblem]:
    """Problems that stop clips from being heard; empty when a real sink is reachable."""
    problems: list[PlaybackProblem] = []
    server = os.environ.get("PULSE_SERVER", "")
    over_ssh = bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_CLIENT"))
    client = pulse_client()
    reachable = bool(client) and pulse_reachable()
    if reachable:
        if over_ssh and server.startswith("unix:") and _unix_needs_shm_off(server):
            problems.append(PlaybackProblem(
                "PULSE_SERVER is a forwarded Unix socket but SHM/memfd are not disabled",
                "Over ssh -R the client fails with 'Expected 1 memfd fd to be received'.",
                ["box$ printf 'enable-shm = no\\nenable-memfd = no\\n' > "
                 "~/.gsv-pulse-client.conf",
                 "box$ export PULSE_CLIENTCONFIG=~/.gsv-pulse-client.conf"]))
        return problems
    if not client:
        problems.append(PlaybackProblem(
            "paplay/pacat are not installed",
            "They play through a local or forwarded PulseAudio/PipeWire server.",
            ["sudo apt-get install pulseaudio-utils"]))
    if server:
        problems.append(PlaybackProblem(
            f"PULSE_SERVER={server} does not answer",
            "The ssh tunnel is probably closed, or the laptop's server lacks the TCP module.",
            [f"box$ PULSE_SERVER={server} pactl info   # check", *tunnel_recipes()]))
        return problems
    if has_sound_card() and (shutil.which("aplay") or shutil.which("ffplay")):
        return problems
    if check_sounddevice and sounddevice_ok():
        return problems
    where = "this SSH session" if over_ssh else "this machine"
    problems.append(PlaybackProblem(
        f"No sound output is reachable from {where}",
        "No PULSE_SERVER, no PulseAudio/PipeWire server, no sound card. Forward your laptop's "
        "audio, or use the HTTP clip server through ssh -L.",
        tunnel_recipes()))
    return problems
