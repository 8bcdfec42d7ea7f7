"""Starting the server: refuse a non-loopback address without the flag (before anything
loads), make sure of the token, check the voices, take the port, load the models, then hand
the socket to uvicorn. The port is bound before the slow model loading, so a taken port is
reported at once; connections made while loading wait in the backlog."""
from __future__ import annotations

import socket
import sys
from typing import Callable

from engine.events import StepError
from engine.serve.config import ServeConfig, check_bind


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise StepError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
                        "Pick another port with --port (0: any free one), or stop the program "
                        "that holds it.")
    sock.listen(128)
    return sock


def serve(cfg: ServeConfig, say: Callable[[str], None] | None = None) -> int:
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    warning = check_bind(cfg)
    if warning:
        say(warning)
    from engine.serve import auth
    from engine.serve.voices import find_sources, load

    tok = auth.load_or_create(cfg.new_token)
    sources = find_sources(cfg.project_root, cfg.bundles)
    sock = bind(cfg.host, cfg.port)
    if cfg.threads:
        import torch

        torch.set_num_threads(cfg.threads)
    voices = load(sources, cfg.device, cfg.precision, cfg.allow_download, cfg.ref_dirs, say)

    import uvicorn

    from engine.serve.app import Service, build_app

    service = Service(voices, tok, cfg)
    config = uvicorn.Config(build_app(service), log_level="info", lifespan="off",
                            limit_concurrency=cfg.max_connections, timeout_graceful_shutdown=5,
                            server_header=False)
    port = sock.getsockname()[1]
    host = f"[{cfg.host.strip('[]')}]" if ":" in cfg.host else cfg.host
    url = f"http://{host}:{port}"
    if tok.note:
        say(f"{tok.note} in {tok.path}")
    say(f"voices: {', '.join(service.voices)}; queue {cfg.queue_size} per voice, "
        f"time limit {cfg.timeout_s:g} s, text up to {cfg.max_chars} characters")
    say(f"token: {tok.path} (send 'Authorization: Bearer <token>')")
    say(f"try: curl -H \"Authorization: Bearer $(cat {tok.path})\" {url}/tts "
        "-G --data-urlencode text=Hello -o hello.wav")
    say(f"listening on {url}")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        service.stop()
        sock.close()
    return 0
