"""Building a step's request from a project: the one way the TUI, the CLI and jobs do it.

One precedence rule for every step, lowest first:

1. the request class's defaults (each knob's declared default),
2. project defaults (the registry's ``from_project``: the project's language, …),
3. the settings stored in ``project.toml`` for that step,
4. what this run overrides (CLI flags given, the pane's form values),
5. fixed fields (``project_root``) and the run's inputs (files to import, text to speak).

What a run used is what the project file records (:func:`remember`), whichever surface
started it, so the next run — from the other surface — starts from the same values.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from engine.events import StepError
from engine.project import Project, set_step_settings
from engine.settings import apply, coerce, default_of, knobs, problem, validate
from engine.steps import FIXED_FIELDS, StepEntry, entry


def project_defaults(project: Project, step: StepEntry, cls: type) -> dict[str, Any]:
    """Values the project implies for knobs the user never set (only where they fit)."""
    fields = {f.name: f for f in knobs(cls)}
    out: dict[str, Any] = {}
    for name, attr in step.from_project:
        value = getattr(project, attr, None)
        f = fields.get(name)
        if f is None or value is None:
            continue
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            continue  # e.g. a project language this recogniser does not offer
        out[name] = value
    return out


def baseline(project: Project, step_id: str) -> dict[str, Any]:
    """Every setting's value before the user stored anything: defaults + project defaults."""
    step = entry(step_id)
    cls = step.request_cls()
    out = {f.name: default_of(f) for f in knobs(cls)}
    out.update(project_defaults(project, step, cls))
    return out


def effective_settings(project: Project, step_id: str) -> dict[str, Any]:
    """What the next run of ``step_id`` uses unless told otherwise (what forms show)."""
    out = baseline(project, step_id)
    names = set(out)
    out.update({k: v for k, v in project.step_settings(step_id).items() if k in names})
    return out


def build_request(project: Project, step_id: str, overrides: dict[str, Any] | None = None,
                  *, inputs: dict[str, Any] | None = None, check: bool = True) -> Any:
    """The request for one run of ``step_id`` (see the module docstring for precedence).

    ``overrides`` holds settings (knobs) this run changes; ``inputs`` holds the step's
    per-run inputs and other non-setting fields. Unknown names are a bug in the caller."""
    step = entry(step_id)
    if not step.request:
        raise StepError(f"The {step.title} step has nothing to run.")
    cls = step.request_cls()
    names = {f.name for f in dataclasses.fields(cls)}
    given = {k for k, v in (overrides or {}).items() if v is not None}
    check_stored(project, step_id, cls, skip=given)
    values = effective_settings(project, step_id)
    for source in (overrides or {}), (inputs or {}):
        unknown = set(source) - names
        if unknown:
            raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    values.update(inputs or {})
    fixed = {k: str(project.root) for k in FIXED_FIELDS if k in names}
    request = apply(cls, values, **fixed)
    if check:
        validate(request)
    return request


def check_stored(project: Project, step_id: str, cls: type, skip: set[str] = frozenset()) -> None:
    """A stored setting of the wrong type or out of range is named with its place in
    project.toml, so the user knows which line to fix (not only which knob)."""
    stored = project.step_settings(step_id)
    for f in knobs(cls):
        if f.name not in stored or f.name in skip:
            continue
        err = problem(f, coerce(f, stored[f.name]))
        if err is not None:
            raise StepError(
                f"{project.file}: settings.{step_id}.{f.name} — {err.reason}",
                f"{err.hint} Fix that line, change it in the wizard, or pass "
                f"--{f.name.replace('_', '-')} (which stores the new value); "
                f"`gsv restore-backup {project.root}` puts the last good file back.")


def settings_of(project: Project, step_id: str, request: Any) -> dict[str, Any]:
    """The knobs of ``request`` that differ from the project's baseline: what to store."""
    step = entry(step_id)
    base = baseline(project, step_id)
    skip = set(step.inputs) | set(FIXED_FIELDS)
    return {f.name: getattr(request, f.name) for f in knobs(type(request))
            if f.name not in skip and getattr(request, f.name) != base.get(f.name)}


def remember(project: Project, step_id: str, request: Any) -> None:
    """Record the settings a run uses in project.toml (a ProjectError if it cannot)."""
    values = settings_of(project, step_id, request)
    if values != project.step_settings(step_id):
        set_step_settings(project.root, step_id, values)
        project.settings[step_id] = dict(values)
