"""Downloads through a local server speaking the Hub's file protocol (as in
test_hub_download): a pinned revision is the one every request asks for, and a file whose
sha256 is not the declared one is removed and refused with a sentence."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
PIN = "0123456789abcdef0123456789abcdef01234567"
FILES = {
    "model.bin": b"weights " * 1000,
    "config.json": b'{"a": 1}',
    "chinese-hubert-base/config.json": b"{}",
    "chinese-hubert-base/preprocessor_config.json": b"{}",
    "chinese-hubert-base/pytorch_model.bin": b"not the published HuBERT",
}


class _Hub(BaseHTTPRequestHandler):
    log: list[str] = []

    def log_message(self, *args):
        pass

    def _file(self) -> tuple[str, str] | None:
        parts = self.path.split("?")[0].split("/")  # /<org>/<name>/resolve/<rev>/<file>
        if len(parts) >= 6 and parts[3] == "resolve":
            return unquote(parts[4]), unquote("/".join(parts[5:]))
        return None

    def _head(self, name: str, rev: str) -> None:
        data = FILES[name]
        self.send_header("X-Repo-Commit", rev if len(rev) == 40 else "c" * 40)
        self.send_header("ETag", f'"{hashlib.sha1(data).hexdigest()}"')
        self.send_header("Content-Length", str(len(data)))

    def do_HEAD(self):
        self.log.append(f"HEAD {self.path}")
        found = self._file()
        if not found or found[1] not in FILES:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self._head(found[1], found[0])
        self.end_headers()

    def do_GET(self):
        self.log.append(f"GET {self.path}")
        if self.path.startswith("/api/models/"):
            body = json.dumps([{"type": "file", "path": n, "size": len(d),
                                "oid": hashlib.sha1(d).hexdigest()} for n, d in FILES.items()])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())
            return
        found = self._file()
        if not found or found[1] not in FILES:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self._head(found[1], found[0])
        self.end_headers()
        self.wfile.write(FILES[found[1]])


@pytest.fixture
def hub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    _Hub.log = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


CHILD = """
import json, sys
from engine.hub import PRETRAINED, ModelSpec, ensure_model
if sys.argv[1] == "hubert":
    spec = PRETRAINED["hubert"]
else:
    spec = ModelSpec("tiny", "org/tiny", files=("model.bin", "config.json"),
                     revision=sys.argv[2], sha256=(("model.bin", sys.argv[3]),))
gen = ensure_model(spec)
try:
    while True:
        next(gen)
except StopIteration as stop:
    print(json.dumps({"path": str(stop.value)}))
except Exception as exc:
    print(json.dumps({"reason": getattr(exc, "reason", repr(exc)), "hint": getattr(exc, "hint", "")}))
"""


def _child(endpoint: str, home: Path, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE",
                                                            "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT=endpoint, GSV_HOME=str(home), HF_HUB_DISABLE_XET="1",
               HF_HUB_CACHE=str(home / "hf-cache"), PYTHONPATH=str(REPO_ROOT))
    out = subprocess.run([sys.executable, "-c", CHILD, *args], env=env, capture_output=True,
                         text=True, timeout=120, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_pinned_revision_is_what_every_request_asks_for(hub, tmp_path):
    good = hashlib.sha256(FILES["model.bin"]).hexdigest()
    res = _child(hub, tmp_path, "tiny", PIN, good)
    assert "path" in res, res
    assert (Path(res["path"]) / "model.bin").read_bytes() == FILES["model.bin"]
    files = [line for line in _Hub.log if "/resolve/" in line]
    assert files and all(f"/resolve/{PIN}/" in line for line in files), files
    listing = [line for line in _Hub.log if "/api/models/" in line]
    assert listing and all(PIN in line for line in listing), listing


def test_a_file_that_is_not_the_declared_one_is_removed_and_refused(hub, tmp_path):
    res = _child(hub, tmp_path, "tiny", PIN, "ab" * 32)
    assert "is not the published file" in res["reason"] and "model.bin" in res["reason"]
    assert "Run again" in res["hint"]
    assert not (tmp_path / "data" / "models" / "tiny" / "model.bin").exists()


def test_upstreams_published_digest_guards_the_hubert_download(hub, tmp_path):
    """PRETRAINED["hubert"] declares nothing itself: upstream's published sha256 for
    chinese-hubert-base/pytorch_model.bin applies, and the fake file fails it."""
    res = _child(hub, tmp_path, "hubert")
    assert "pytorch_model.bin from lj1995/GPT-SoVITS is not the published file" in res["reason"]
    folder = tmp_path / "data" / "models" / "chinese-hubert-base"
    assert not (folder / "pytorch_model.bin").exists()
