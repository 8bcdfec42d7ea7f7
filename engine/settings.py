"""Typed step settings: every knob declared once, with its default, range and meaning.

A step's request dataclass *is* its settings declaration: fields made with :func:`knob`
carry a one-line help text and bounds. The project file stores only values that differ
from the defaults; :func:`validate` checks ranges before any work (or GPU job) starts.
"""
from __future__ import annotations

import dataclasses
from dataclasses import MISSING, field
from typing import Any, Iterable, TypeVar

from engine.events import StepError

T = TypeVar("T")


def knob(
    default: Any,
    help: str,
    *,
    min: float | None = None,
    max: float | None = None,
    choices: Iterable[Any] | None = None,
    unit: str = "",
) -> Any:
    """A dataclass field with a documented default, range and meaning."""
    meta = {"help": help, "min": min, "max": max, "unit": unit,
            "choices": tuple(choices) if choices is not None else None}
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


def knobs(cls: type) -> list[dataclasses.Field]:
    """The documented fields of a request class (those made with :func:`knob`)."""
    return [f for f in dataclasses.fields(cls) if "help" in f.metadata]


def default_of(f: dataclasses.Field) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return MISSING


def validate(request: Any) -> None:
    """Raise :class:`StepError` naming the first knob out of range, and the allowed range."""
    for f in knobs(type(request)):
        value = getattr(request, f.name)
        m = f.metadata
        if m.get("choices") and value not in m["choices"]:
            allowed = ", ".join(map(str, m["choices"]))
            raise StepError(f"{f.name} = {value!r} is not one of: {allowed}",
                            f"Pick one of {allowed} ({m['help']}).")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            lo, hi = m.get("min"), m.get("max")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                rng = f"{lo if lo is not None else '-inf'} … {hi if hi is not None else 'inf'}"
                raise StepError(f"{f.name} = {value} is outside {rng} {m.get('unit', '')}".rstrip(),
                                f"Set {f.name} within {rng} ({m['help']}).")


def non_defaults(request: Any) -> dict[str, Any]:
    """Only the knobs that differ from their defaults: what the project file stores."""
    out = {}
    for f in knobs(type(request)):
        value = getattr(request, f.name)
        if value != default_of(f):
            out[f.name] = value
    return out


def apply(cls: type[T], stored: dict[str, Any], **fixed: Any) -> T:
    """Build a request from stored non-default settings plus fixed fields (paths etc.).
    Unknown stored keys (from an older version) are ignored rather than fatal."""
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in stored.items() if k in names}
    kwargs.update(fixed)
    return cls(**kwargs)
