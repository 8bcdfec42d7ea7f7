"""Shared plumbing for headless sub-commands: project argument, running a step inline with
progress on stderr, or detached as a job."""
from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from engine.events import Artifact, Failed, Log, Progress, Result, StopToken
from engine.project import Project, ProjectError, find_root, load_project
from engine.runner import StepFunc, drive


def add_project_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("-C", "--project", dest="sub_project", default=None, metavar="PATH",
                   help="project folder (default: the current folder)")


def add_job_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detach", action="store_true",
                   help="run as a background job that survives logout; follow with `gsv jobs --follow`")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")


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
        job = jobs.submit(root, step_id, func, request)
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
    return code
