"""What ``gsv serve`` was asked to do, and the one rule about where it may listen: loopback
unless the user says otherwise, out loud."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from engine.events import StepError

DEFAULT_PORT = 9880  # upstream api_v2's port: scripts written for it find us there


@dataclass
class ServeConfig:
    project_root: str = ""  # the project whose voice is served ("" = bundles only)
    bundles: list[str] = field(default_factory=list)  # exported bundle folders
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0: any free port (printed)
    allow_remote: bool = False  # bind a non-loopback address (anyone who can reach it may try)
    queue_size: int = 4  # requests waiting per voice beyond the one being spoken
    timeout_s: float = 300.0  # per request: waiting in the queue + speaking
    max_chars: int = 2000  # longest text one request may send
    max_body_bytes: int = 256 * 1024
    max_connections: int = 64  # uvicorn answers 503 beyond this
    ref_dirs: list[str] = field(default_factory=list)  # more folders api_v2 references may come from
    device: str = "auto"
    precision: str = "exact"
    threads: int = 0  # torch threads (0: torch's default)
    allow_download: bool = True  # BERT/HuBERT at start-up, as synthesize does
    new_token: bool = False  # replace the token file's token


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: could resolve anywhere


def check_bind(cfg: ServeConfig) -> str | None:
    """Refuse a non-loopback address unless ``allow_remote``; then return the warning to
    print (None for loopback)."""
    if not 0 <= cfg.port <= 65535:
        raise StepError(f"Port {cfg.port} is not a TCP port.",
                        "Pick a port from 1 to 65535 (0: any free one).")
    if is_loopback(cfg.host):
        return None
    if not cfg.allow_remote:
        raise StepError(
            f"gsv serve will not listen on {cfg.host}: only this machine (127.0.0.1) is allowed "
            "by default.",
            "From a laptop, tunnel instead: ssh -L 9880:127.0.0.1:9880 HOST. To listen on "
            f"{cfg.host} anyway, add --allow-remote (anyone who can reach it and has the token "
            "can use the voice).")
    return (f"warning: listening on {cfg.host}:{cfg.port}, reachable from other machines. "
            "Traffic is plain HTTP (the token travels unencrypted); prefer 127.0.0.1 with an "
            "ssh -L tunnel.")
