"""Play one clip at a time in a child process; know where the play head is.

The player never blocks the caller for the length of a clip and never lets a child write to
the terminal. The play head is estimated from the start time (players give no position back);
good enough for a moving cursor on an energy strip.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from engine.audio.playback.backends import BACKENDS, choose_backend
from engine.audio.playback.segment import write_segment

HTTP_PORT = 8765


@dataclass(frozen=True)
class PlayStart:
    backend: str
    start: float  # clip seconds where playback began
    length: float  # clip seconds that will play
    speed: float
    url: str | None = None  # http backend: open this through ssh -L


class Player:
    def __init__(self, backend: str = "auto", workdir: Path | None = None) -> None:
        self.preferred = backend
        # the clip server needs no probe: it always works
        self._backend: str | None = "http" if backend == "http" else None
        self._own_dir = workdir is None  # ours to remove on close()
        self._workdir = None if workdir is None else Path(workdir)
        self._proc: subprocess.Popen | None = None
        self._http: subprocess.Popen | None = None
        self._token = secrets.token_urlsafe(16)  # 22 characters
        self._turn = 0
        self._started: tuple[float, PlayStart] | None = None

    @property
    def workdir(self) -> Path:
        """Where clips are cut for playing: made on the first play, so a screen that never
        plays leaves no folder behind even when it is never closed."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="gsv-play-"))
        self._workdir.mkdir(parents=True, exist_ok=True)
        return self._workdir

    @property
    def backend(self) -> str:
        if self._backend is None:
            self._backend = choose_backend(self.preferred)
        return self._backend

    def set_backend(self, name: str) -> None:
        """Use ``name`` (e.g. chosen by :func:`choose_backend` in a worker thread)."""
        self._backend = name

    def play(self, path: Path | str, *, start: float = 0.0, end: float | None = None,
             speed: float = 1.0) -> PlayStart:
        self.stop()
        self._turn ^= 1  # alternate files so a dying child never reads a half-written one
        seg = self.workdir / f"clip{self._turn}.wav"
        length = write_segment(Path(path), seg, start=start, end=end, speed=speed)
        name = self.backend
        url = None
        if name == "http":
            url = self._serve(seg)
        else:
            self._proc = subprocess.Popen(BACKENDS[name].argv(seg), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          start_new_session=True)
        ps = PlayStart(name, start, length, speed, url)
        self._started = (time.monotonic(), ps)
        return ps

    def _serve(self, seg: Path) -> str:
        if self._http is None or self._http.poll() is not None:
            port_file = self.workdir / ".port"
            port_file.unlink(missing_ok=True)
            # The token goes through a pipe: argv is readable by every local user.
            self._http = subprocess.Popen(
                [sys.executable, "-m", "engine.audio.playback.httpserve", str(self.workdir),
                 str(HTTP_PORT), str(os.getpid())], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                cwd=str(Path(__file__).resolve().parents[3]))
            assert self._http.stdin is not None
            try:
                self._http.stdin.write(f"{self._token}\n".encode("ascii"))
                self._http.stdin.close()
            except BrokenPipeError:  # it died at once; the port wait below reports it
                pass
            deadline = time.monotonic() + 5
            while not port_file.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        port = (self.workdir / ".port").read_text().strip()
        return f"http://127.0.0.1:{port}/{self._token}/{seg.name}"

    @property
    def playing(self) -> bool:
        if self._started is None:
            return False
        if self._proc is not None:
            return self._proc.poll() is None
        t0, ps = self._started  # http: "playing" for as long as the clip would last
        return time.monotonic() - t0 < ps.length / ps.speed

    def position(self) -> float | None:
        """Clip seconds under the play head, or None when nothing plays."""
        if not self.playing or self._started is None:
            return None
        t0, ps = self._started
        return ps.start + min((time.monotonic() - t0) * ps.speed, ps.length)

    def exit_code(self) -> int | None:
        """The last player child's exit status once it has ended (non-zero: it failed, e.g.
        no server answered); None while it plays or when nothing was started."""
        return None if self._proc is None else self._proc.poll()

    def wait(self, timeout: float | None = None) -> None:
        if self._proc is not None:
            self._proc.wait(timeout)

    def stop(self) -> None:
        p, self._proc, self._started = self._proc, None, None
        if p is not None and p.poll() is None:
            _kill(p)

    def close(self) -> None:
        self.stop()
        h, self._http = self._http, None
        if h is not None and h.poll() is None:
            _kill(h)
        if self._own_dir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


def _kill(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        p.wait(1.0)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
