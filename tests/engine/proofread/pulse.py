"""A private PulseAudio server with a null sink, and recording its monitor (for tests)."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest


def require_pulse() -> None:
    """`make setup` installs Debian pulseaudio + pulseaudio-utils; without them these tests
    fail with the fix instead of being skipped (a skip would pass CI without hearing a thing)."""
    missing = [t for t in ("pulseaudio", "parec", "paplay", "pactl") if not shutil.which(t)]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: sudo apt-get install pulseaudio "
                    "pulseaudio-utils (scripts/setup.sh does)")


@pytest.fixture
def pulse(tmp_path, monkeypatch):
    """A private PulseAudio daemon: own runtime dir, unix socket, one null sink."""
    require_pulse()
    run = tmp_path / "pulse"
    run.mkdir()
    sock = run / "native"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(run), "HOME": str(run),
           "PULSE_RUNTIME_PATH": str(run)}
    proc = subprocess.Popen(
        ["pulseaudio", "--daemonize=no", "-n", "--exit-idle-time=-1", "--use-pid-file=no",
         "--disable-shm=yes", f"--load=module-native-protocol-unix socket={sock} "
         "auth-anonymous=1", "--load=module-null-sink sink_name=gsvnull rate=32000 channels=1"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    monkeypatch.setenv("PULSE_SERVER", f"unix:{sock}")
    monkeypatch.setenv("HOME", str(run))  # no cookie lookups in the real home
    deadline = time.monotonic() + 10
    while subprocess.run(["pactl", "info"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL).returncode != 0:
        assert time.monotonic() < deadline and proc.poll() is None, "pulseaudio did not start"
        time.sleep(0.1)
    yield sock
    proc.terminate()
    proc.wait(5)


class Recorder:
    """``parec`` on the null sink's monitor, from start() until stop() (returns samples)."""

    def __init__(self, out: Path) -> None:
        self.raw = out.with_suffix(".raw")
        self.proc = subprocess.Popen(
            ["parec", "--device=gsvnull.monitor", "--format=s16le", "--rate=32000",
             "--channels=1", str(self.raw)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        time.sleep(0.3)  # let the stream connect before anything plays

    def stop(self) -> np.ndarray:
        self.proc.terminate()
        self.proc.wait(5)
        return np.fromfile(self.raw, dtype=np.int16).astype(np.float32) / 32768


def record_while(fn, seconds: float, out: Path) -> np.ndarray:
    rec = Recorder(out)
    fn()
    time.sleep(seconds)
    return rec.stop()


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x ** 2))) if len(x) else 0.0


