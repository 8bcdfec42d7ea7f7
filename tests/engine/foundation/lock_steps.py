"""Steps for the step-lock and project-write tests. They hold a run open until the test says
go, through handshake files (never a sleep that hopes the other side is ready).

Two hooks act in a job child that imports this module, set by the test's environment:
``GSV_TEST_IMPORT_GATE`` (a folder) makes the import itself wait, so the job stays
"starting"; ``GSV_TEST_LOCK_TIMEOUT_S`` shortens the project-file lock timeout, so a busy
project.toml is met in a second rather than thirty."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from engine.events import Artifact, Event, Progress, Result, StopToken


def wait_for(path: Path, stop: StopToken | None = None, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if stop is not None and stop.requested:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"handshake {path} never came")
        time.sleep(0.01)


if os.environ.get("GSV_TEST_LOCK_TIMEOUT_S"):
    import engine.project

    engine.project.LOCK_TIMEOUT_S = float(os.environ["GSV_TEST_LOCK_TIMEOUT_S"])

if os.environ.get("GSV_TEST_IMPORT_GATE"):
    _gate = Path(os.environ["GSV_TEST_IMPORT_GATE"])
    (_gate / "importing").write_text(str(os.getpid()))
    wait_for(_gate / "go")


@dataclass
class HoldRequest:
    project_root: str = ""
    handshake: str = ""  # a folder: we write "started" (our pid) and wait for "release"
    out: str = ""  # written after the release and reported as an artefact


def run_hold(req: HoldRequest, stop: StopToken | None = None) -> Iterator[Event]:
    hs = Path(req.handshake)
    (hs / "started").write_text(str(os.getpid()))
    yield Progress("hold", 0, 1)
    wait_for(hs / "release", stop)
    if req.out:
        Path(req.out).write_text("held")
        yield Artifact(req.out, "out")
    yield Progress("hold", 1, 1)
    yield Result("held, then released")
