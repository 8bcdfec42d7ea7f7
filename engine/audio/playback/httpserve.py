"""Loopback-only clip server: ``python -m engine.audio.playback.httpserve DIR PORT [PID]``,
with the token as the first line of its standard input.

Serves the files of DIR at ``http://127.0.0.1:PORT/TOKEN/<name>`` and nothing else (the random
token keeps other local users out, so it never goes on the command line, which any local user
can read in ``/proc/<pid>/cmdline``). Binds 127.0.0.1 only: the user reaches it through
``ssh -L PORT:127.0.0.1:PORT``. Writes the bound port to ``DIR/.port`` once listening, and
exits when process PID (the editor) is gone.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def make_handler(folder: Path, token: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            parts = self.path.split("?", 1)[0].strip("/").split("/")
            if len(parts) != 2 or parts[0] != token or parts[1].startswith("."):
                self.send_error(404)
                return
            f = folder / parts[1]
            if not f.is_file() or f.parent != folder:
                self.send_error(404)
                return
            data = f.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:  # keep quiet
            pass

    return Handler


def _exit_with_parent(httpd: ThreadingHTTPServer, parent: int) -> None:
    """The server runs in its own session (keys on the terminal don't reach it), so it
    watches its parent instead: an editor killed with SIGKILL leaves no server behind."""
    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                httpd.shutdown()
                return
            if os.getppid() != parent:  # reparented: the parent is gone
                httpd.shutdown()
                return
    threading.Thread(target=watch, daemon=True).start()


def serve(folder: Path, token: str, port: int, parent: int | None = None) -> None:
    try:
        httpd = ThreadingHTTPServer(("127.0.0.1", port), make_handler(folder, token))
    except OSError:  # preferred port busy: take any free one
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(folder, token))
    tmp = folder / ".port.tmp"
    tmp.write_text(str(httpd.server_address[1]))
    tmp.replace(folder / ".port")
    if parent:
        _exit_with_parent(httpd, parent)
    httpd.serve_forever()


def read_token(stream) -> str:
    token = stream.readline().strip()
    if len(token) < 16:  # the player sends 16 url-safe characters or more
        raise SystemExit("httpserve: expected the token on standard input")
    return token


if __name__ == "__main__":
    serve(Path(sys.argv[1]).resolve(), read_token(sys.stdin), int(sys.argv[2]),
          int(sys.argv[3]) if len(sys.argv) > 3 else None)
