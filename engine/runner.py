"""Drive one step: hold its lock, validate its request, run it, turn exceptions into
``Failed`` events and keep the project file's step status in line. Used inline (CLI,
tests) and by job children."""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

from engine.diskfull import DiskFull
from engine.diskfull import from_error as disk_full
from engine.events import Artifact, Event, Failed, Log, Result, StepError, StopToken
from engine.settings import validate
from engine.steplock import Holder, StepLock, command_line

StepFunc = Callable[..., Iterator[Event]]
# How long a run's final status record retries a busy project.toml before giving up.
FINAL_RECORD_S = 300.0


def dotted(obj: Any) -> str:
    """``module:QualName`` of a module-level function or class (what a job child imports)."""
    return f"{obj.__module__}:{obj.__qualname__}"


def resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def request_to_dict(request: Any) -> dict[str, Any]:
    return dataclasses.asdict(request)


def request_from_dict(cls: type, data: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def _call(func: StepFunc, request: Any, stop: StopToken) -> Iterator[Event]:
    params = inspect.signature(func).parameters
    if "stop" in params:
        return func(request, stop=stop)
    return func(request)


def drive(step_id: str, func: StepFunc, request: Any, *, stop: StopToken | None = None,
          job: str | None = None, lock: StepLock | None = None) -> Iterator[Event]:
    """Run ``func(request)`` and yield its events, ending with exactly one Result or Failed.

    The step's lock (engine.steplock) is held for the whole run, so a second run of the same
    step, from any surface, is refused with a sentence naming the first; a refused run
    touches nothing. A job child passes the ``lock`` its parent took for it."""
    stop = stop or StopToken()
    root = getattr(request, "project_root", None) or None
    try:
        held = lock if lock is not None else _take_lock(root, step_id)
    except StepError as exc:
        yield Failed(exc.reason, exc.hint)
        return
    try:
        yield from _drive_locked(step_id, func, request, stop, root, job)
    finally:
        if held is not None:
            held.release()


def _take_lock(root: str | None, step_id: str) -> StepLock | None:
    from engine.layout import PROJECT_FILE

    if not root or not (Path(root) / PROJECT_FILE).is_file():
        return None  # a bare folder (tests, tools): no project to protect
    return StepLock.acquire(root, step_id, Holder(pid=os.getpid(), started=time.time(),
                                                  how=command_line()))


def _drive_locked(step_id: str, func: StepFunc, request: Any, stop: StopToken,
                  root: str | None, job: str | None) -> Iterator[Event]:
    artifacts: list[tuple[str, str]] = []
    outcome: Event | None = None
    try:
        validate(request)
        yield from _record(root, step_id, "running", job=job)
        for event in _call(func, request, stop):
            if isinstance(event, Artifact):
                artifacts.append((event.path, event.kind))
            if isinstance(event, Failed):
                outcome = event
                break
            if isinstance(event, Result):
                outcome = event  # yielded once the project file says so (below)
                continue
            yield event
    except StepError as exc:
        outcome = Failed(exc.reason, exc.hint)
    except Exception as exc:  # a bug, not bad input: show the cause, keep the traceback
        full = disk_full(exc, root)  # ENOSPC from any write: a full disk, not a bug
        if full is not None:
            outcome = Failed(full.reason, full.hint)
        else:
            yield Log(traceback.format_exc(), "error")
            outcome = Failed(f"{type(exc).__name__}: {exc}",
                             "This looks like a bug in gsv-tui; the job log has the full "
                             "traceback.")
    except BaseException:  # Ctrl-C twice, or the consumer closed us: never leave "running"
        for _ in _record(root, step_id, "pending", message="interrupted; run again to resume"):
            pass  # no yielding while the generator is being closed
        raise
    if outcome is None:
        if stop.requested:
            outcome = Failed("Stopped on request.", "Run the step again to resume where it stopped.")
        else:
            outcome = Result("done")
    # The final record waits out a busy project file: lost, a finished job would read as failed.
    final = {"patience": FINAL_RECORD_S}
    if isinstance(outcome, Result) and outcome.data.get("stopped"):
        # A step that stops early may still report what it did (ASR does); it is not done.
        yield from _record(root, step_id, "pending", **final,
                           message=f"stopped: {outcome.summary}; run again to resume")
    elif isinstance(outcome, Result):
        yield from _record(root, step_id, "done", **final, message=outcome.summary,
                           artifacts=artifacts)
    elif stop.requested:
        yield from _record(root, step_id, "pending", **final,
                           message="stopped on request; run again to resume")
    else:
        yield from _record(root, step_id, "failed", **final, message=outcome.reason)
    yield outcome


def _record(root: str | None, step_id: str, status: str, *, patience: float = 0.0,
            **kw: Any) -> Iterator[Event]:
    """Write the step's status to project.toml; a busy file is retried for ``patience`` s.
    Problems become warnings in the run's log: the step's own work is already done."""
    from engine.layout import PROJECT_FILE
    from engine.project import LockTimeout, ProjectError, record_step

    if not root or not (Path(root) / PROJECT_FILE).is_file():
        return  # a step run on a bare folder (no project.toml) still works
    deadline = time.monotonic() + patience
    while True:
        try:
            record_step(root, step_id, status, **kw)
            return
        except LockTimeout as exc:
            if time.monotonic() >= deadline:
                yield Log(f"Could not record {step_id} as {status}: {exc.message}", "warning")
                return
            yield Log(f"{exc.message} Retrying, so this run's outcome is not lost.", "warning")
        except (ProjectError, FileNotFoundError, DiskFull) as exc:
            yield Log(f"Could not record {step_id} as {status}: {exc}", "warning")
            return
