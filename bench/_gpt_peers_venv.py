"""The peers' throw-away venv for bench/gpt_peers.py: outside the repo (a cache folder,
reused while its pins match), torch pinned to the CPU build the project uses.

The peers are installed without their declared dependencies (``--no-deps``): the bench runs
only their GPT decoding, which needs torch (gpt-sovits-cpufast's AR package, genie-tts's
converter) and numpy, onnx and onnxruntime (genie-tts's graphs). Their text frontends, web
UIs, servers and downloaders (gradio, fastapi, pyopenjtalk, huggingface_hub, ...) are neither
installed nor imported. ``with_deps=True`` installs what they declare, under the same pins.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TORCH = "torch==2.13.0"  # the project's CPU build; never a bare "torch"
PEERS = ["gpt-sovits-cpufast==0.1.0", "genie-tts==2.0.2"]
RUNTIME = ["numpy<2", "onnx", "onnxruntime==1.22.1"]  # genie-tts pins onnxruntime 1.22.1
DEFAULT_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gsv-tui" / "bench-gpt-peers"


class SetupError(Exception):
    """A sentence for the person running the bench (no traceback)."""


def _pip(py: Path, args: list[str], what: str, log: Path) -> None:
    cmd = [str(py), "-m", "pip", "install", "--disable-pip-version-check", *args]
    with open(log, "a", encoding="utf-8") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode:
        text = log.read_text(encoding="utf-8", errors="replace")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and "is ignored" not in ln]
        # pip's most telling line: a network error or a missing release, else its last line
        said = next((ln for ln in reversed(lines) if any(k in ln for k in (
            "NewConnectionError", "Could not find a version", "No matching distribution",
            "Network is unreachable", "Name or service not known", "Connection refused",
            "Cannot install"))),
            lines[-1] if lines else f"exit {r.returncode}")
        raise SetupError(
            f"Could not install {what} from the package index (pip: {said[:300]}). Check that this "
            f"machine reaches the package index (pip's configured index); once installed, the venv "
            f"is kept and reused. Full pip log: {log}")


def ensure_venv(root: Path | None, fresh: bool, with_deps: bool) -> Path:
    """Python of a venv holding torch 2.13.0 (CPU) and both peers; built on first use."""
    pins = {"torch": TORCH, "peers": PEERS, "runtime": RUNTIME, "with_deps": with_deps,
            "python": sys.version.split()[0]}
    tag = hashlib.sha256(json.dumps(pins, sort_keys=True).encode()).hexdigest()[:10]
    root = (root or DEFAULT_ROOT) / f"venv-{tag}"
    py, marker = root / "bin" / "python", root / "bench-ready.json"
    repo = Path(__file__).resolve().parents[1]
    if root.resolve().is_relative_to(repo):
        raise SetupError(f"The peers' venv must live outside the repository; {root} is inside it.")
    if marker.exists() and not fresh and py.exists():
        return py
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([sys.executable, "-m", "venv", str(root)], capture_output=True, text=True)
    if r.returncode:
        raise SetupError(f"Could not create a venv at {root}: {r.stderr.strip()[-300:]}")
    log = root / "pip.log"
    cons = root / "constraints.txt"  # nothing they pull may swap torch for another build
    cons.write_text(TORCH + "\n", encoding="utf-8")
    print(f"  peers' venv: {root} (first use: installs {TORCH}, {', '.join(PEERS)})", flush=True)
    _pip(py, [TORCH, "-c", str(cons)], TORCH, log)
    if with_deps:
        _pip(py, [*PEERS, *RUNTIME, "-c", str(cons)], " and ".join(PEERS) + " with their dependencies", log)
    else:
        _pip(py, ["--no-deps", *PEERS], " and ".join(PEERS), log)
        _pip(py, [*RUNTIME, "-c", str(cons)], ", ".join(RUNTIME), log)
    got = subprocess.run([str(py), "-c", "import torch; print(torch.__version__)"],
                         capture_output=True, text=True).stdout.strip()
    if not got.startswith("2.13.0") or "+cu" in got:
        raise SetupError(f"The peers' venv ended up with torch {got or '(none)'}, not 2.13.0 CPU; "
                         f"run again with --fresh-venv.")
    marker.write_text(json.dumps(pins), encoding="utf-8")
    return py


def versions(py: Path) -> dict[str, str]:
    code = ("import importlib.metadata as m, json; print(json.dumps({n: m.version(n) for n in "
            "['torch', 'gpt-sovits-cpufast', 'genie-tts', 'onnxruntime', 'onnx', 'numpy']}))")
    r = subprocess.run([str(py), "-c", code], capture_output=True, text=True)
    return json.loads(r.stdout) if r.returncode == 0 else {}
