"""A local HTTP server speaking the Hub's file protocol (tree listing, HEAD metadata, ranged
GET), and a child process that reaches it through HF_ENDPOINT. The download tests share it:
the child is a real huggingface_hub client, so what it asks for is what the server logs."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote

REPO_ROOT = Path(__file__).resolve().parents[3]
COMMIT = "c" * 40  # what a branch name such as "main" resolves to


class FakeHub:
    """``files`` by repo path; a name in ``cut_once`` has its first transfer dropped half-way."""

    def __init__(self, files: dict[str, bytes], cut_once: set[str] | None = None) -> None:
        self.files = files
        self.cut_once = set(cut_once or ())
        self.log: list[str] = []
        self.url = ""


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, *args):  # keep pytest output clean
        pass

    @property
    def hub(self) -> FakeHub:
        return self.server.hub  # type: ignore[attr-defined]

    def _found(self) -> tuple[str, str] | None:
        """(revision, file) of a /<org>/<name>/resolve/<rev>/<file> request; 404 otherwise."""
        parts = self.path.split("?")[0].split("/")
        if len(parts) >= 6 and parts[3] == "resolve":
            rev, name = unquote(parts[4]), unquote("/".join(parts[5:]))
            if name in self.hub.files:
                return rev, name
        self.send_response(404)
        self.end_headers()
        return None

    def _meta(self, rev: str, name: str, length: int) -> None:
        # A pinned commit resolves to itself, a branch to COMMIT.
        self.send_header("X-Repo-Commit", rev if len(rev) == 40 else COMMIT)
        self.send_header("ETag", f'"{hashlib.sha1(self.hub.files[name]).hexdigest()}"')
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")

    def do_HEAD(self):
        self.hub.log.append(f"HEAD {self.path}")
        if found := self._found():
            self.send_response(200)
            self._meta(*found, len(self.hub.files[found[1]]))
            self.end_headers()

    def do_GET(self):
        self.hub.log.append(f"GET {self.path} {self.headers.get('Range', '')}")
        if self.path.startswith("/api/models/"):
            self._listing()
            return
        if not (found := self._found()):
            return
        rev, name = found
        data = self.hub.files[name]
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self._meta(rev, name, len(data) - start)
        self.end_headers()
        if name in self.hub.cut_once:  # drop the connection half-way, once
            self.hub.cut_once.discard(name)
            self.wfile.write(data[start:start + len(data) // 2])
            self.wfile.flush()
            self.connection.close()
            return
        self.wfile.write(data[start:])

    def _listing(self) -> None:
        body = json.dumps([{"type": "file", "path": n, "size": len(d),
                            "oid": hashlib.sha1(d).hexdigest()}
                           for n, d in self.hub.files.items()]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve(files: dict[str, bytes], cut_once: set[str] | None = None) -> Iterator[FakeHub]:
    """A FakeHub listening on a free local port until the block ends."""
    hub = FakeHub(files, cut_once)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.hub = hub  # type: ignore[attr-defined]
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield hub
    finally:
        server.shutdown()


def run_child(code: str, endpoint: str, home: Path, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter online against ``endpoint`` with GSV_HOME=home;
    its last stdout line is JSON."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE",
                                                            "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT=endpoint, GSV_HOME=str(home), HF_HUB_DISABLE_XET="1",
               HF_HUB_CACHE=str(home / "hf-cache"), PYTHONPATH=str(REPO_ROOT))
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                         text=True, timeout=120, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])
