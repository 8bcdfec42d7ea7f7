"""A real download through huggingface_hub from a local HTTP server that speaks the Hub's
file protocol (tree listing, HEAD metadata, ranged GET), reached via HF_ENDPOINT. The first
transfer of the big file is cut off mid-way; the download must still end complete."""
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
COMMIT = "c" * 40
FILES = {
    "model.bin": os.urandom(24_000_000),  # > huggingface_hub's 10 MB chunk: a cut keeps bytes
    "config.json": b'{"a": 1}',
    "tokenizer.json": b"{}",
    "vocabulary.txt": b"a\nb\n",
    "README.md": b"not wanted",
    "gsv-v2final-pretrained/s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt": b"gpt",
    "gsv-v2final-pretrained/s2G2333k.pth": b"G",
    "gsv-v2final-pretrained/s2D2333k.pth": b"D",
    "gsv-v2final-pretrained/unrelated.txt": b"no",
}


class _Hub(BaseHTTPRequestHandler):
    log: list[str] = []
    cut_once = {"model.bin"}

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _file(self) -> str | None:
        parts = self.path.split("?")[0].split("/")
        # /<org>/<name>/resolve/<rev>/<file>
        if len(parts) >= 6 and parts[3] == "resolve":
            return unquote("/".join(parts[5:]))
        return None

    def _meta(self, name: str, length: int) -> None:
        data = FILES[name]
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{hashlib.sha1(data).hexdigest()}"')
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")

    def do_HEAD(self):
        name = self._file()
        self.log.append(f"HEAD {self.path}")
        if name not in FILES:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self._meta(name, len(FILES[name]))
        self.end_headers()

    def do_GET(self):
        self.log.append(f"GET {self.path} {self.headers.get('Range', '')}")
        if self.path.startswith("/api/models/"):
            body = json.dumps([{"type": "file", "path": n, "size": len(d),
                                "oid": hashlib.sha1(d).hexdigest()} for n, d in FILES.items()])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())
            return
        name = self._file()
        if name not in FILES:
            self.send_response(404)
            self.end_headers()
            return
        data = FILES[name]
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self._meta(name, len(data) - start)
        self.end_headers()
        if name in self.cut_once:  # drop the connection half-way, once
            self.cut_once.discard(name)
            self.wfile.write(data[start:start + len(data) // 2])
            self.wfile.flush()
            self.connection.close()
            return
        self.wfile.write(data[start:])


@pytest.fixture
def fake_hub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    _Hub.log = []
    _Hub.cut_once = {"model.bin"}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


CHILD = """
import json, sys
from engine.hub import PRETRAINED, ModelSpec, ensure_model
from engine.events import Progress, event_to_dict
spec = ModelSpec("tiny-thing", "org/tiny-thing",
                 files=("model.bin", "config.json", "tokenizer.json", "vocabulary.*"))
if sys.argv[1:] == ["v2-base"]:
    spec = PRETRAINED["v2-base"]
events = []
gen = ensure_model(spec)
try:
    while True:
        events.append(event_to_dict(next(gen)))
except StopIteration as stop:
    path = str(stop.value)
except Exception as exc:  # report a StepError's text
    path = None
    events.append({"type": "error", "reason": getattr(exc, "reason", repr(exc)),
                   "hint": getattr(exc, "hint", "")})
print(json.dumps({"path": path, "events": events}))
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


def test_download_via_hf_endpoint_resumes_and_reports_progress(fake_hub, tmp_path):
    res = _child(fake_hub, tmp_path)
    assert res["path"], res["events"]
    folder = Path(res["path"])
    assert folder == tmp_path / "data" / "models" / "tiny-thing"
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        assert (folder / name).read_bytes() == FILES[name]
    assert not (folder / "README.md").exists()  # only the files the spec asks for
    progress = [e for e in res["events"] if e["type"] == "progress"]
    assert progress and any("model.bin" in e["message"] for e in progress)
    gets = [line for line in _Hub.log if "resolve" in line and "model.bin" in line]
    assert any("bytes=" in line for line in gets), gets  # resumed with a Range request
    # a second call finds the folder and makes no request at all
    before = len(_Hub.log)
    again = _child(fake_hub, tmp_path)
    assert again["path"] == res["path"] and again["events"] == []
    assert len(_Hub.log) == before


def test_pretrained_base_from_a_repo_subfolder(fake_hub, tmp_path):
    """Upstream's v2 bases live in a subfolder of one repo; they land flat in their own
    folder under the models dir (file names with '=' survive URL quoting)."""
    res = _child(fake_hub, tmp_path, "v2-base")
    assert res["path"], res["events"]
    folder = Path(res["path"])
    assert folder.name == "gsv-v2final-pretrained"
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == [
        "s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt", "s2D2333k.pth", "s2G2333k.pth"]
    assert (folder / "s2G2333k.pth").read_bytes() == b"G"
    assert not (folder / "gsv-v2final-pretrained").exists()
