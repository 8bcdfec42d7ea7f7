"""``gsv train``: fine-tune SoVITS, then GPT, on the formatted data set.

``--follow`` runs it as a background job and prints its stage/epoch/loss/ETA lines until it
ends (Ctrl-C stops following, not the job). ``--then COMMAND…`` (the rest of the line, an
argument list, no shell) runs once after both stages have finished, after a cancellable
countdown (``gsv jobs --cancel-then``); after a failure only with ``--then-on-failure``."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time

from gsv_tui.commands._common import (ProgressPrinter, add_job_args, add_project_arg,
                                      add_settings_flags, fail, open_project, run_registered)

FOLLOW_EVERY_S = 2.0  # a progress line at most this often when the output is not a terminal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fine-tune SoVITS then GPT (resumes from the newest checkpoint)")
    add_project_arg(p)
    add_job_args(p)
    p.add_argument("--follow", action="store_true",
                   help="run as a background job and print its progress until it ends")
    add_settings_flags(p, "train", skip=("then",))
    p.add_argument("--sovits-json", default=None, help="advanced SoVITS trainer fields, as JSON")
    p.add_argument("--gpt-json", default=None, help="advanced GPT trainer fields, as JSON")
    p.add_argument("--then", nargs=argparse.REMAINDER, default=None, metavar="COMMAND",
                   help="last option: run COMMAND (the rest of the line, no shell; e.g. "
                        "poweroff, or sh -c '…') once training has finished, after a "
                        "countdown; `--then` alone clears a stored command")
    p.set_defaults(func=run)


def _json(flag: str, text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{flag}: not JSON ({exc.msg} at column {exc.colno}); write e.g. '{{\"lr\": 1e-4}}'")
    if not isinstance(value, dict):
        fail(f"{flag}: give a JSON object of trainer fields, e.g. '{{\"lr\": 1e-4}}'")
    return value


def run(args: argparse.Namespace) -> int:
    inputs = {"sovits": _json("--sovits-json", args.sovits_json),
              "gpt": _json("--gpt-json", args.gpt_json)}
    overrides = {} if args.then is None else {"then": list(args.then)}
    if args.follow:
        args.detach = True
    if not args.detach:
        code = run_registered(args, "train", overrides=overrides, inputs=inputs)
        return _then_inline(args, code)
    code = run_registered(args, "train", overrides=overrides, inputs=inputs)
    if code or not args.follow or getattr(args, "print_request", False):
        return code
    from engine import jobs

    project = open_project(args)
    newest = jobs.list_jobs(project.root, "train")
    return follow(newest[0]) if newest else 1


def follow(job, out=None) -> int:  # noqa: ANN001 -- engine.jobs.JobInfo
    """Print the job's training lines until it ends; the exit code is the job's."""
    from engine import jobs
    from engine.events import Failed, Log, Progress, Result
    from engine.train.failure import explain
    from engine.train.progress import TrainView

    out = out or sys.stdout
    printer = ProgressPrinter(stream=out)
    view = TrainView()
    offset, last, stage = 0, 0.0, ""
    printer.line(f"following job {job.id} (train); Ctrl-C stops following, not the job")
    while True:
        events, offset = jobs.read_events(job.run_dir, offset)
        for _, ev in events:
            view.feed(ev)
            if isinstance(ev, Progress):
                if view.current != stage and view.current:
                    stage = view.current
                    printer.line(f"stage {stage}: {view.relation(stage)}".rstrip(": "))
                now = time.monotonic()
                final = bool(ev.total and ev.done >= ev.total)
                if now - last >= FOLLOW_EVERY_S or final or view.then is not None:
                    last = now
                    printer.line(view.line())
            elif isinstance(ev, Log):
                if ev.level != "info" or not ev.line.startswith("epoch "):  # losses are in the lines
                    printer.line(("" if ev.level == "info" else f"{ev.level}: ") + ev.line)
            elif isinstance(ev, Result):
                printer.line(ev.summary)
            elif isinstance(ev, Failed):
                pass  # said once the job has ended, with its cause
        job = jobs.load_job(job.run_dir)
        if job.active:
            time.sleep(0.25)
            continue
        more, offset = jobs.read_events(job.run_dir, offset)
        if more:
            for _, ev in more:
                view.feed(ev)
            continue
        if job.state == "done":
            printer.line(f"job {job.id}: done")
            return 0
        if job.state == "cancelled":
            printer.line(f"job {job.id}: stopped; the checkpoint is saved, `gsv train` resumes from it")
            return 1
        reason, hint = view.failed or (job.reason, job.hint)
        cause = explain(reason, hint, jobs.tail_log(job.run_dir, 40))
        printer.line(f"job {job.id} failed: {cause.sentence}")
        if cause.fix:
            printer.line(f"  what to do: {cause.fix}")
        return 1


def _then_inline(args: argparse.Namespace, code: int) -> int:
    """After an inline run: the countdown and the command, here in this terminal."""
    from engine.events import Log, Progress, StopToken
    from engine.jobs import then as then_mod
    from engine.requests import effective_settings

    if getattr(args, "print_request", False):
        return code
    project = open_project(args)
    spec = then_mod.spec_of(argparse.Namespace(**effective_settings(project, "train")))
    if spec is None or not spec.applies(code == 0) or (code and not _failed(project)):
        return code
    stop = StopToken()
    printer = ProgressPrinter()

    def emit(ev) -> None:  # noqa: ANN001
        if isinstance(ev, Progress):
            printer.progress(ev)
        elif isinstance(ev, Log):
            printer.line(ev.line)

    old = signal.signal(signal.SIGINT, lambda *_: stop.request())
    try:
        go = then_mod.count_down(project.root, "train", spec, stop, emit)
    finally:
        signal.signal(signal.SIGINT, old)
    if go:
        then_mod.run_command(project.root, "train", spec, emit)
    return code


def _failed(project) -> bool:  # noqa: ANN001
    """A non-zero exit is a failure only when the step says failed (not a stop or a refusal)."""
    from engine.project import load_project

    return load_project(project.root).step("train").status == "failed"
