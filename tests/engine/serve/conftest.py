"""A real ``gsv serve`` process per test module, on 127.0.0.1 and a free port, serving a
copy of the synth tests' tiny trained voice; a real HTTP client (http.client) talks to it."""
from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.engine.synth.conftest import bert_dir, hubert_dir, voice_template  # noqa: F401
from tests.engine.synth.voicekit import ZH_REF, copy_project, install_models

REPO = Path(__file__).resolve().parents[3]
START_S = 180  # model loading on a busy 2-core box; a failure guard, not a wait


class Server:
    def __init__(self, args: list[str], home: Path, gates: Path) -> None:
        self.home, self.gates = home, gates
        gates.mkdir(parents=True, exist_ok=True)
        env = os.environ | {"GSV_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.engine.serve.serve_child", str(gates), "--", *args],
            cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.port: int | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m[1])
                self._ready.set()
        self._ready.set()  # the process ended

    def wait_ready(self) -> "Server":
        assert self._ready.wait(START_S), self.output()
        assert self.port is not None, f"server did not start:\n{self.output()}"
        return self

    def output(self) -> str:
        return "\n".join(self.lines)

    @property
    def token(self) -> str:
        return (self.home / "config" / "serve-token").read_text().strip()

    def connect(self, timeout: float = 120) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = "",
                timeout: float = 120) -> tuple[int, dict, bytes]:
        """One request; ``token`` "" = the right one, None = no header."""
        conn = self.connect(timeout)
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token or self.token}"
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers=headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def status(self) -> dict:
        code, _, body = self.request("GET", "/status")
        assert code == 200, body
        return json.loads(body)

    def gate_reached(self, n: int, timeout: float = 120) -> None:
        """Wait (on the child's handshake file) until a piece with gate<n> is being spoken."""
        end = time.monotonic() + timeout
        while not (self.gates / f"reached-{n}").exists():
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < end, f"gate {n} never reached\n{self.output()}"
            time.sleep(0.01)

    def open_gate(self, n: int) -> None:
        (self.gates / f"open-{n}").write_text("")

    def stop(self) -> int:
        """Close its stdin (the child then shuts down by itself) and wait for it."""
        try:
            self.proc.stdin.close()
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"server did not stop by itself\n{self.output()}")


@pytest.fixture(scope="module")
def served_home(tmp_path_factory, voice_template, bert_dir, hubert_dir):  # noqa: F811
    """(project, bundle, app home) for the module's server: the tiny voice, an exported
    bundle of its first epoch with the Chinese reference, BERT/HuBERT installed."""
    from engine.synth.export import run_export
    from engine.synth.request import ExportRequest

    base = tmp_path_factory.mktemp("serve")
    home = base / "home"
    project = copy_project(voice_template, base / "proj")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GSV_HOME", str(home))
        install_models(bert_dir, hubert_dir)
        list(run_export(ExportRequest(str(project), gpt_path="GPT_weights/voice-e1.ckpt",
                                      ref_wav=ZH_REF[0], dest=str(base / "bundle"),
                                      make_zip=False)))
    return project, base / "bundle", home


def start(project: Path, home: Path, gates: Path, *extra: str) -> Server:
    args = ["-C", str(project), "--port", "0", "--offline", "--device", "cpu", "--threads", "1",
            *extra]
    return Server(args, home, gates).wait_ready()
