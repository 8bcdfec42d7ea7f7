"""Drive one step: validate its request, run it, turn exceptions into ``Failed`` events and
keep the project file's step status in line. Used inline (CLI, tests) and by job children."""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import traceback
from typing import Any, Callable, Iterator

from engine.events import Artifact, Event, Failed, Log, Result, StepError, StopToken
from engine.settings import validate

StepFunc = Callable[..., Iterator[Event]]


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
          job: str | None = None) -> Iterator[Event]:
    """Run ``func(request)`` and yield its events, ending with exactly one Result or Failed."""
    stop = stop or StopToken()
    root = getattr(request, "project_root", None) or None
    artifacts: list[tuple[str, str]] = []
    outcome: Event | None = None
    try:
        validate(request)
        if root:
            _record(root, step_id, "running", job=job)
        for event in _call(func, request, stop):
            if isinstance(event, Artifact):
                artifacts.append((event.path, event.kind))
            if isinstance(event, (Result, Failed)):
                outcome = event
            yield event
            if isinstance(event, Failed):
                break
    except StepError as exc:
        outcome = Failed(exc.reason, exc.hint)
        yield outcome
    except Exception as exc:  # a bug, not bad input: show the cause, keep the traceback
        yield Log(traceback.format_exc(), "error")
        outcome = Failed(f"{type(exc).__name__}: {exc}",
                         "This looks like a bug in gsv-tui; the job log has the full traceback.")
        yield outcome
    except BaseException:  # Ctrl-C twice, or the consumer closed us: never leave "running"
        if root:
            _record(root, step_id, "pending", message="interrupted; run again to resume")
        raise
    if outcome is None:
        if stop.requested:
            outcome = Failed("Stopped on request.", "Run the step again to resume where it stopped.")
        else:
            outcome = Result("done")
        yield outcome
    if root:
        if isinstance(outcome, Result) and outcome.data.get("stopped"):
            # A step that stops early may still report what it did (ASR does); it is not done.
            _record(root, step_id, "pending", message=f"stopped: {outcome.summary}; run again to resume")
        elif isinstance(outcome, Result):
            _record(root, step_id, "done", message=outcome.summary, artifacts=artifacts)
        elif stop.requested:
            _record(root, step_id, "pending", message="stopped on request; run again to resume")
        else:
            _record(root, step_id, "failed", message=outcome.reason)


def _record(root: str, step_id: str, status: str, **kw: Any) -> None:
    from engine.project import ProjectError, record_step

    try:
        record_step(root, step_id, status, **kw)
    except (ProjectError, FileNotFoundError):
        pass  # a step run on a bare folder (no project.toml) still works
