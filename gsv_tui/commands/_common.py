"""Shared plumbing for headless sub-commands: project argument, running a step inline with
progress on stderr, or detached as a job."""
from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from engine.events import Artifact, Failed, Log, Progress, Result, StepError, StopToken
from engine.project import Project, ProjectError, find_root, load_project
from engine.runner import StepFunc, drive
from engine.settings import default_of, knobs, label_of
from engine.steps import FIXED_FIELDS, entry


def add_project_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("-C", "--project", dest="sub_project", default=None, metavar="PATH",
                   help="project folder (default: the current folder)")


def add_job_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detach", action="store_true",
                   help="run as a background job that survives logout; follow with `gsv jobs --follow`")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")


SETTINGS_EPILOG = ("Settings left out keep the project's stored value (what the wizard shows); "
                   "settings given are stored, so the next run, from here or the wizard, "
                   "starts from them.")


# Short spellings that switch a setting off, kept from before the flags were generated.
NEGATIONS = {"allow_download": ("--offline", "never download; use local or cached models only"),
             "half": ("--fp32", "full precision on a GPU too"),
             "vad_filter": ("--no-vad", "do not drop non-speech with VAD"),
             "pack_clips": ("--no-pack", "one Whisper window per clip")}


def add_settings_flags(p: argparse.ArgumentParser, step_id: str, *,
                       aliases: dict[str, tuple[str, ...]] | None = None,
                       skip: tuple[str, ...] = (), title: str = "settings",
                       print_request: bool = True) -> None:
    """One flag per knob of the step's request, generated from its declaration: the same
    knobs the wizard renders as form fields. Every flag defaults to None (= not given), so
    stored settings apply; ``aliases`` adds older or shorter spellings (``--lang``)."""
    step = entry(step_id)
    aliases = aliases or {}
    group = p.add_argument_group(title, SETTINGS_EPILOG if title == "settings" else None)
    for f in knobs(step.request_cls()):
        if f.name in skip or f.name in step.inputs or f.name in FIXED_FIELDS:
            continue
        default = default_of(f)
        if isinstance(default, dict):
            continue  # tables have their own flags (e.g. --reroll)
        meta = f.metadata
        names = ["--" + f.name.replace("_", "-"), *aliases.get(f.name, ())]
        shown = "on" if default is True else "off" if default is False else repr(default)
        text = f"{label_of(f)}: {meta['help']} (default {shown})".replace("%", "%%")
        kw: dict[str, Any] = {"dest": f.name, "default": None, "help": text}
        if isinstance(default, bool):
            kw["action"] = argparse.BooleanOptionalAction
        elif isinstance(default, list):
            kw.update(action="append", metavar="VALUE")
        else:
            kw["type"] = type(default) if default is not None else str
            if meta.get("choices"):
                kw["choices"] = meta["choices"]
            else:
                kw["metavar"] = _metavar(f.name, default, meta.get("unit", ""))
        group.add_argument(*names, **kw)
        if f.name in NEGATIONS and isinstance(default, bool):
            flag, what = NEGATIONS[f.name]
            group.add_argument(flag, dest=f.name, action="store_false", default=None,
                               help=f"{what} (= --no-{f.name.replace('_', '-')})")
    if print_request:
        p.add_argument("--print-request", action="store_true",
                       help="print the request this run would use (JSON) and exit")


def _metavar(name: str, default: Any, unit: str) -> str:
    if isinstance(default, str):
        return "PATH" if name.endswith(("_path", "_dir", "_wav")) else "TEXT"
    if unit:
        return unit.upper().replace(" ", "_")
    return "N" if isinstance(default, int) else "X"


def settings_overrides(args: argparse.Namespace, step_id: str) -> dict[str, Any]:
    """The settings flags actually given on the command line (not the step's inputs)."""
    step = entry(step_id)
    names = {f.name for f in knobs(step.request_cls())} - set(step.inputs) - set(FIXED_FIELDS)
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def run_registered(args: argparse.Namespace, step_id: str, *,
                   overrides: dict[str, Any] | None = None,
                   inputs: dict[str, Any] | None = None,
                   project: Project | None = None) -> int:
    """Build the step's request from the project + flags (engine.requests, the one rule),
    store what it uses, and run it inline or as a job. Returns the exit code."""
    from engine.requests import build_request, remember

    project = project or open_project(args)
    given = settings_overrides(args, step_id)
    given.update(overrides or {})
    try:
        request = build_request(project, step_id, given, inputs=inputs)
    except StepError as exc:
        fail(exc.reason + (f"\n  what to do: {exc.hint}" if exc.hint else ""))
        raise  # unreachable
    if getattr(args, "print_request", False):
        print(json.dumps(dataclasses.asdict(request), ensure_ascii=False, indent=1))
        return 0
    try:
        remember(project, step_id, request)
    except ProjectError as exc:
        fail(str(exc))
    return run_step_cli(args, step_id, entry(step_id).run_func(), request)


def project_root(args: argparse.Namespace) -> Path:
    return find_root(getattr(args, "sub_project", None) or getattr(args, "project", None) or ".")


def open_project(args: argparse.Namespace) -> Project:
    """Load the project named by -C (or the current folder); exit with the message if bad."""
    try:
        return load_project(project_root(args))
    except ProjectError as exc:
        fail(str(exc))
        raise  # unreachable


def fail(message: str, code: int = 2) -> None:
    print(f"gsv: {message}", file=sys.stderr)
    raise SystemExit(code)


def fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressPrinter:
    """One line rewritten in place on a terminal; a line every few seconds in a log."""

    def __init__(self, stream: Any = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.quiet = quiet
        self.last = 0.0
        self.width = 0

    def progress(self, ev: Progress) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if not self.tty and now - self.last < 2.0 and not (ev.total and ev.done >= ev.total):
            return
        self.last = now
        frac = f"{ev.done:g}/{ev.total:g}" if ev.total else f"{ev.done:g}"
        pct = f" {100 * ev.done / ev.total:5.1f}%" if ev.total else ""
        metrics = " ".join(f"{k}={v:.4g}" for k, v in ev.metrics.items())
        eta = f" eta {fmt_eta(ev.eta_s)}" if ev.eta_s is not None else ""
        line = f"[{ev.step}] {frac}{pct}{eta} {ev.message} {metrics}".rstrip()
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def line(self, text: str) -> None:
        if self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.width = 0
        self.stream.write(text + "\n")
        self.stream.flush()


def run_step_cli(args: argparse.Namespace, step_id: str, func: StepFunc, request: Any) -> int:
    """Run a step the way every headless command does. Returns the process exit code."""
    if getattr(args, "detach", False):
        from engine import jobs

        root = getattr(request, "project_root", "") or str(project_root(args))
        try:
            job = jobs.submit(root, step_id, func, request)
        except StepError as exc:  # e.g. the step is already running
            fail(exc.reason + (f"\n  what to do: {exc.hint}" if exc.hint else ""), 1)
            raise  # unreachable
        print(f"started job {job.id} ({step_id}) in {job.run_dir}")
        print("follow it with: gsv jobs --follow" + (f" -C {root}" if root else ""))
        return 0
    stop = StopToken()
    printer = ProgressPrinter(quiet=getattr(args, "quiet", False))

    def on_int(signum: int, frame: object) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.request()
        printer.line("stopping after the current item (Ctrl-C again to abort)…")

    old = signal.signal(signal.SIGINT, on_int)
    # SIGTERM (a cloud box about to shut down, `kill`) stops the same graceful way: the step
    # saves what it has (training: a checkpoint) before the process ends.
    old_term = signal.signal(signal.SIGTERM, on_int)
    code = 1
    try:
        for ev in drive(step_id, func, request, stop=stop):
            if isinstance(ev, Progress):
                printer.progress(ev)
            elif isinstance(ev, Log):
                if ev.level in ("warning", "error") or not printer.quiet:
                    printer.line(("" if ev.level == "info" else f"{ev.level}: ") + ev.line)
            elif isinstance(ev, Artifact):
                pass
            elif isinstance(ev, Result):
                printer.line(ev.summary)
                code = 0
            elif isinstance(ev, Failed):
                printer.line(f"gsv {step_id}: {ev.reason}")
                if ev.hint:
                    printer.line(f"  what to do: {ev.hint}")
                code = 1
    finally:
        signal.signal(signal.SIGINT, old)
        signal.signal(signal.SIGTERM, old_term)
    return code
