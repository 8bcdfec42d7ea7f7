"""The typed events every engine step yields, and their JSON form for job event logs.

A step is a plain function ``run(request, stop=None) -> Iterator[Event]``. The TUI, the
headless CLI, the detached job runner and the tests all consume the same stream.
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any, Union


@dataclass(frozen=True)
class Progress:
    """How far a step is. ``total`` None means unknown (a spinner, not a bar)."""

    step: str
    done: float
    total: float | None = None
    eta_s: float | None = None
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Log:
    line: str
    level: str = "info"  # debug | info | warning | error


@dataclass(frozen=True)
class Artifact:
    """A file or folder the step produced, relative to the project root when inside it."""

    path: str
    kind: str = ""
    sha256: str | None = None


@dataclass(frozen=True)
class Result:
    """The step finished; ``data`` is a small JSON-able summary (counts, paths)."""

    summary: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    """The step could not finish. ``hint`` tells the user what to do about it."""

    reason: str
    hint: str = ""


Event = Union[Progress, Log, Artifact, Result, Failed]
EVENT_TYPES: dict[str, type] = {
    "progress": Progress,
    "log": Log,
    "artifact": Artifact,
    "result": Result,
    "failed": Failed,
}
_TYPE_NAMES = {cls: name for name, cls in EVENT_TYPES.items()}


def event_to_dict(event: Event) -> dict[str, Any]:
    data = dataclasses.asdict(event)
    data["type"] = _TYPE_NAMES[type(event)]
    return data


def event_from_dict(data: dict[str, Any]) -> Event:
    data = dict(data)
    cls = EVENT_TYPES[data.pop("type")]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


class StepError(Exception):
    """Raised inside a step for an expected failure; becomes a ``Failed`` event."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


class StopToken:
    """Cooperative cancellation: long steps check ``requested`` between units of work
    (a clip, a training step) and return early, leaving resumable state behind."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def request(self) -> None:
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()
