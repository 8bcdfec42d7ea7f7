"""Playback backends, tried in order: PulseAudio/PipeWire client, sounddevice, aplay/ffplay,
and a loopback HTTP clip server as the last resort.

Each backend turns a wav file into the argument list of a child process; the child's stdin,
stdout and stderr are /dev/null. Probes are cheap and also run in children.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

BACKEND_ORDER = ("pulse", "sounddevice", "alsa", "ffplay", "http")
_QUIET = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _run_ok(argv: list[str], timeout: float = 3.0, env: dict[str, str] | None = None) -> bool:
    try:
        return subprocess.run(argv, timeout=timeout, env=env, **_QUIET).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def pulse_client() -> str | None:
    return shutil.which("paplay") or shutil.which("pacat")


def pulse_reachable() -> bool:
    """A PulseAudio or PipeWire-pulse server answers (honours PULSE_SERVER)."""
    if shutil.which("pactl"):
        return _run_ok(["pactl", "info"])
    server = os.environ.get("PULSE_SERVER", "")
    if server.startswith("unix:"):
        return Path(server[5:]).exists()
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    return bool(server) or bool(runtime and (Path(runtime) / "pulse" / "native").exists())


def has_sound_card() -> bool:
    return Path("/dev/snd").is_dir() and any(Path("/dev/snd").glob("pcm*p"))


_SD_PROBE = ("import sounddevice as sd, sys; d = sd.query_devices(kind='output'); "
             "sys.exit(0 if d else 1)")
_SD_PLAY = ("import sys, sounddevice as sd, soundfile as sf; "
            "x, r = sf.read(sys.argv[1], dtype='float32'); sd.play(x, r); sd.wait()")


def sounddevice_ok() -> bool:
    import importlib.util
    if importlib.util.find_spec("sounddevice") is None:
        return False
    return _run_ok([sys.executable, "-c", _SD_PROBE], timeout=5.0)


@dataclass(frozen=True)
class Backend:
    name: str
    description: str
    available: Callable[[], bool]
    argv: Callable[[Path], list[str]]


def _pulse_argv(path: Path) -> list[str]:
    exe = pulse_client() or "paplay"
    if Path(exe).name == "pacat":
        return [exe, "--playback", "--file-format=wav", str(path)]
    return [exe, str(path)]


BACKENDS: dict[str, Backend] = {
    "pulse": Backend("pulse", "PulseAudio/PipeWire client (paplay), honours PULSE_SERVER",
                     lambda: bool(pulse_client()) and pulse_reachable(), _pulse_argv),
    "sounddevice": Backend("sounddevice", "PortAudio through the sounddevice package",
                           sounddevice_ok, lambda p: [sys.executable, "-c", _SD_PLAY, str(p)]),
    "alsa": Backend("alsa", "aplay on a local sound card",
                    lambda: bool(shutil.which("aplay")) and has_sound_card(),
                    lambda p: ["aplay", "-q", str(p)]),
    "ffplay": Backend("ffplay", "ffplay (SDL audio)",
                      lambda: bool(shutil.which("ffplay")) and (has_sound_card()
                                                                or pulse_reachable()),
                      lambda p: ["ffplay", "-nodisp", "-autoexit", "-loglevel", "quiet", str(p)]),
    # The HTTP server is handled by the player itself (no per-clip process); always possible.
    "http": Backend("http", "loopback HTTP clip server for ssh -L (last resort)",
                    lambda: True, lambda p: []),
}


def choose_backend(preferred: str = "auto") -> str:
    """The first available backend, or ``preferred`` when it names one that is available."""
    if preferred in BACKENDS and preferred != "auto":
        if BACKENDS[preferred].available():
            return preferred
    for name in BACKEND_ORDER:
        if BACKENDS[name].available():
            return name
    return "http"
