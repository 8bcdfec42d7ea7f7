"""The detached job process: ``python -m engine.jobs.child <run_dir>``.

Imports the step function and request class named in ``request.json``, runs them through the
runner (holding the step lock its parent took and passed as ``--lock-fd``), appends every
event to ``events.jsonl`` and keeps ``status.json`` current.
SIGHUP is ignored (a dropped SSH connection); the first SIGTERM/SIGINT asks the step to stop
after its current unit of work, a second one exits at once. A request with ``then`` (the
Train step's) gets its command run afterwards, after a cancellable countdown
(engine.jobs.then); the job stays active until the countdown ends."""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from engine.events import Failed, Progress, Result, StopToken, event_to_dict
from engine.jobs import then as then_mod
from engine.jobs.store import proc_start_time, read_status, write_status
from engine.runner import drive, request_from_dict, resolve
from engine.steplock import StepLock

STATUS_EVERY_S = 0.5


def main(run_dir: Path, lock_fd: int | None = None, gate: bool = False) -> int:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # from the first line: a dropped SSH session
    if gate:  # submit closes our stdin once our pid is in status.json
        while os.read(0, 4096):
            pass
    spec = json.loads((run_dir / "request.json").read_text(encoding="utf-8"))
    status = read_status(run_dir)
    status.update(pid=os.getpid(), pstart=proc_start_time(os.getpid()))
    lock = StepLock.adopt(lock_fd, status.get("project_root") or ".", spec["step"]) \
        if lock_fd is not None else None
    stop = StopToken()
    # Still "starting" while the step's modules import (torch takes seconds): SIGTERM keeps
    # its default action until then, so a cancel now ends us at once, with nothing to save.
    request = None
    try:
        func = resolve(spec["target"])
        request = request_from_dict(resolve(spec["request_type"]), spec["request"])
        stream = drive(spec["step"], func, request, stop=stop, lock=lock,
                       job=_rel_run_dir(run_dir, status.get("project_root")))
    except Exception as exc:  # cannot even import the step: report, don't vanish
        stream = iter([Failed(f"Could not start the step: {exc}",
                              "Re-run `make setup`; if it persists this is a bug.")])

    def on_term(signum: int, frame: object) -> None:
        if stop.requested:
            os._exit(130)
        stop.request()
        status["state"] = "stopping"
        write_status(run_dir, status)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    status["state"] = "running"
    write_status(run_dir, status)

    last_status = 0.0
    final: dict = {}
    with open(run_dir / "events.jsonl", "a", encoding="utf-8") as events:
        for event in stream:
            events.write(json.dumps({"t": time.time(), "event": event_to_dict(event)},
                                    ensure_ascii=False) + "\n")
            events.flush()
            if isinstance(event, Progress):
                status["progress"] = {"done": event.done, "total": event.total,
                                      "eta_s": event.eta_s, "message": event.message,
                                      "metrics": event.metrics}
                if time.monotonic() - last_status > STATUS_EVERY_S:
                    write_status(run_dir, status)
                    last_status = time.monotonic()
            elif isinstance(event, Result):
                final = {"state": "done", "summary": event.summary}
            elif isinstance(event, Failed):
                state = "cancelled" if stop.requested else "failed"
                final = {"state": state, "reason": event.reason, "hint": event.hint}
    if lock is not None:
        lock.release()  # drive released it already unless the step could not be imported
    final = final or {"state": "failed", "reason": "The step ended without a result."}
    then, go = _then_of(request, final["state"]), False
    if then is not None:  # the job stays active (followed, shown) through the countdown
        status["then"] = "waiting"
        write_status(run_dir, status)
        with open(run_dir / "events.jsonl", "a", encoding="utf-8") as events:
            go = then_mod.count_down(status["project_root"], spec["step"], then, stop,
                                     lambda ev: _append(events, ev))
        status["then"] = "running" if go else "cancelled"
    status.update(final)
    status["ended"] = time.time()
    write_status(run_dir, status)  # the outcome is on disk before a `poweroff` runs
    if go:
        with open(run_dir / "events.jsonl", "a", encoding="utf-8") as events:
            rc = then_mod.run_command(status["project_root"], spec["step"], then,
                                      lambda ev: _append(events, ev))
        status["then"] = f"ran (exit code {rc})"
        write_status(run_dir, status)
    sys.stdout.flush()
    return 0 if status["state"] == "done" else 1


def _then_of(request: object, state: str) -> "then_mod.ThenSpec | None":
    """The command to run after this job: after success, or a failure when asked; never
    after a cancel (someone is there to decide)."""
    spec = then_mod.spec_of(request) if request is not None else None
    if spec is None or state == "cancelled" or not spec.applies(state == "done"):
        return None
    return spec


def _append(events, ev) -> None:  # noqa: ANN001
    events.write(json.dumps({"t": time.time(), "event": event_to_dict(ev)}, ensure_ascii=False) + "\n")
    events.flush()


def _rel_run_dir(run_dir: Path, root: str | None) -> str:
    if not root:
        return str(run_dir)
    try:
        return run_dir.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(run_dir)


def _parse(argv: list[str]) -> tuple[Path, int | None, bool]:
    lock_fd = int(argv[argv.index("--lock-fd") + 1]) if "--lock-fd" in argv else None
    return Path(argv[0]), lock_fd, "--gate" in argv


if __name__ == "__main__":
    sys.exit(main(*_parse(sys.argv[1:])))
