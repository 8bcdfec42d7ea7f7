"""A command to run once a job has finished ("stop the box when done"): after a countdown
anyone can cancel, never after a failure unless asked.

The countdown's state lives in ``runs/<step>/then.json`` (argv, deadline, token, state), so
every surface finds it: the Train pane and ``gsv jobs --follow`` show it (the countdown is
Progress events "then: …" in the job's own event log), ``gsv jobs --cancel-then`` and the
pane cancel it by writing ``then.cancel`` with the countdown's token (a stale cancel from an
earlier countdown cancels nothing). The command is an argument list run without a shell;
``sh -c …`` only when the user writes it. Its outcome is recorded before it starts, so a
``poweroff`` never leaves a finished run looking unfinished."""
from __future__ import annotations

import json
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from engine.atomic import atomic_write_text
from engine.events import Event, Log, Progress, StopToken

STATE_FILE = "then.json"
CANCEL_FILE = "then.cancel"
PREFIX = "then:"  # Progress messages of the countdown start with it (engine.train.progress)
POLL_S = 0.1


@dataclass(frozen=True)
class ThenSpec:
    argv: tuple[str, ...]
    on_failure: bool = False
    delay_s: float = 60.0

    def applies(self, ok: bool) -> bool:
        return bool(self.argv) and (ok or self.on_failure)

    @property
    def shown(self) -> str:
        return " ".join(self.argv)


def spec_of(request: Any) -> ThenSpec | None:
    """The request's ``then`` fields (TrainRequest has them), or None."""
    argv = [str(a) for a in (getattr(request, "then", None) or [])]
    if not argv:
        return None
    return ThenSpec(tuple(argv), bool(getattr(request, "then_on_failure", False)),
                    float(getattr(request, "then_delay_s", 60.0)))


def _folder(project_root: Path | str, step: str) -> Path:
    return Path(project_root) / "runs" / step


def read_state(project_root: Path | str, step: str) -> dict[str, Any]:
    try:
        return json.loads((_folder(project_root, step) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def waiting(project_root: Path | str, step: str) -> dict[str, Any] | None:
    st = read_state(project_root, step)
    return st if st.get("state") == "waiting" else None


def cancel(project_root: Path | str, step: str) -> bool:
    """Cancel a waiting countdown of ``step``; False when none is waiting."""
    st = waiting(project_root, step)
    if st is None:
        return False
    atomic_write_text(_folder(project_root, step) / CANCEL_FILE, st["token"])
    return True


def _write(folder: Path, state: dict[str, Any]) -> None:
    atomic_write_text(folder / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=1))


def _cancelled(folder: Path, token: str) -> bool:
    try:
        return (folder / CANCEL_FILE).read_text(encoding="utf-8").strip() == token
    except OSError:
        return False


def count_down(project_root: Path | str, step: str, spec: ThenSpec, stop: StopToken,
               emit: Callable[[Event], None], *, clock: Callable[[], float] = time.monotonic) -> bool:
    """Show the countdown (a Progress a second) until it ends (True: run the command) or is
    cancelled: by ``cancel``, or a stop request (cancelling the job cancels its command)."""
    folder = _folder(project_root, step)
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    (folder / CANCEL_FILE).unlink(missing_ok=True)
    state = {"token": token, "argv": list(spec.argv), "state": "waiting",
             "deadline": time.time() + spec.delay_s, "delay_s": spec.delay_s}
    _write(folder, state)
    emit(Log(f"Training is over: `{spec.shown}` runs in {spec.delay_s:.0f} s. Cancel with `c` in "
             "the Train pane or `gsv jobs --cancel-then`."))
    end = clock() + spec.delay_s
    shown = None
    while True:
        left = max(0.0, end - clock())
        if _cancelled(folder, token) or stop.requested:
            state["state"] = "cancelled"
            _write(folder, state)
            (folder / CANCEL_FILE).unlink(missing_ok=True)
            emit(Progress(step, spec.delay_s, spec.delay_s, 0.0, f"{PREFIX} {spec.shown}",
                          {"remaining_s": 0.0, "cancelled": 1.0}))
            emit(Log(f"Cancelled: `{spec.shown}` will not run.", "warning"))
            return False
        whole = int(left + 0.999)
        if whole != shown:  # one event a second, not one per poll
            shown = whole
            emit(Progress(step, spec.delay_s - left, spec.delay_s, left, f"{PREFIX} {spec.shown}",
                          {"remaining_s": float(whole)}))
        if left <= 0:
            state["state"] = "running"
            _write(folder, state)
            return True
        time.sleep(min(POLL_S, left))


def run_command(project_root: Path | str, step: str, spec: ThenSpec,
                emit: Callable[[Event], None]) -> int:
    """Run the command once (no shell, no stdin); returns its exit code (127: not found)."""
    folder = _folder(project_root, step)
    state = read_state(project_root, step)
    emit(Log(f"Running `{spec.shown}`."))
    try:
        rc = subprocess.run(list(spec.argv), stdin=subprocess.DEVNULL, check=False).returncode
    except OSError as exc:
        rc = 127
        emit(Log(f"`{spec.shown}` could not start: {exc.strerror or exc}.", "error"))
    state.update(state="ran", returncode=rc)
    _write(folder, state)
    emit(Log(f"`{spec.shown}` ended with exit code {rc}.", "info" if rc == 0 else "warning"))
    return rc
