"""Typed step settings: every knob declared once, with its default, range and meaning.

A step's request dataclass *is* its settings declaration: fields made with :func:`knob`
carry a one-line help text and bounds. The project file stores only values that differ
from the defaults; :func:`validate` checks ranges before any work (or GPU job) starts.
"""
from __future__ import annotations

import dataclasses
import math
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
    label: str = "",
) -> Any:
    """A dataclass field with a documented default, range and meaning. ``label`` is the
    human name forms and messages show ("Peak min"); without one it is made from the name."""
    meta = {"help": help, "min": min, "max": max, "unit": unit, "label": label,
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


# Words that keep their own spelling in labels; a trailing unit word is dropped from the
# name when the knob declares that unit (peak_min_db + dBFS -> "Peak min (dBFS)").
_WORDS = {"db": "dB", "ms": "ms", "fft": "FFT", "mdx": "MDX", "vad": "VAD", "gpt": "GPT",
          "sovits": "SoVITS", "dpo": "DPO", "asr": "ASR", "bert": "BERT", "hubert": "HuBERT",
          "rms": "RMS", "gpu": "GPU", "cpu": "CPU", "id": "ID", "n": "", "wav": "WAV"}
_UNIT_WORDS = {"db", "ms", "s", "hz", "khz"}


def label_of(f: dataclasses.Field) -> str:
    """The knob's human name with its unit: "Peak min (dBFS)", "Hop (ms)"."""
    meta = f.metadata
    unit = meta.get("unit", "")
    text = meta.get("label") or ""
    if not text:
        words = f.name.split("_")
        if unit and len(words) > 1 and words[-1] in _UNIT_WORDS:
            words = words[:-1]
        words = [_WORDS.get(w, w) for w in words] if len(words) > 1 else words
        text = " ".join(w for w in words if w)
        if text and text[0].islower():
            text = text[0].upper() + text[1:]
    return f"{text} ({unit})" if unit else text


def _type_error(f: dataclasses.Field, value: Any) -> str | None:
    """Why ``value`` does not fit the knob's type (judged by its default), or None."""
    default = default_of(f)
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "on or off (true/false)"
    if isinstance(default, int):
        return None if isinstance(value, int) and not isinstance(value, bool) else "a whole number"
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "a number"
        return None if math.isfinite(value) else "a finite number (not NaN or infinity)"
    if isinstance(default, str):
        return None if isinstance(value, str) else "text"
    if isinstance(default, (list, tuple)):
        return None if isinstance(value, (list, tuple)) else "a list"
    if isinstance(default, dict):
        return None if isinstance(value, dict) else "a table of values"
    return None


def problem(f: dataclasses.Field, value: Any) -> StepError | None:
    """What is wrong with ``value`` for knob ``f`` (type, NaN, choices, range), or None."""
    m = f.metadata
    name = label_of(f)
    wrong = _type_error(f, value)
    if wrong:
        return StepError(f"{name} = {value!r} is not {wrong}.",
                         f"Set {name} to {wrong} ({m['help']}).")
    if m.get("choices") and value not in m["choices"]:
        allowed = ", ".join(map(str, m["choices"]))
        return StepError(f"{name} = {value!r} is not one of: {allowed}",
                         f"Pick one of {allowed} ({m['help']}).")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        lo, hi = m.get("min"), m.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"{lo if lo is not None else '-inf'} … {hi if hi is not None else 'inf'}"
            return StepError(f"{name} = {value} is outside {rng} {m.get('unit', '')}".rstrip(),
                             f"Set {name} within {rng} ({m['help']}).")
    return None


def validate(request: Any) -> None:
    """Raise :class:`StepError` naming the first knob of the wrong type or out of range."""
    for f in knobs(type(request)):
        err = problem(f, coerce(f, getattr(request, f.name)))
        if err is not None:
            raise err


def coerce(f: dataclasses.Field, value: Any) -> Any:
    """A whole number where the knob wants a float (TOML and JSON write 1 for 1.0)."""
    if isinstance(default_of(f), float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


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
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {k: coerce(fields[k], v) for k, v in stored.items() if k in fields}
    kwargs.update(fixed)
    return cls(**kwargs)
