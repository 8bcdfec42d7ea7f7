"""``gsv jobs``: list, follow and cancel the project's background jobs."""
from __future__ import annotations

import argparse
import datetime as dt
import time

from engine import jobs
from engine.events import Failed, Log, Progress, Result
from gsv_tui.commands._common import ProgressPrinter, add_project_arg, fail, open_project


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("jobs", help="list, follow or cancel background jobs")
    add_project_arg(p)
    p.add_argument("--follow", nargs="?", const="", default=None, metavar="ID",
                   help="stream a job's progress until it ends (default: the newest running one)")
    p.add_argument("--cancel", metavar="ID", help="stop a job (gracefully, then forced)")
    p.add_argument("--log", metavar="ID", help="print a job's log")
    p.add_argument("--cancel-then", action="store_true",
                   help="cancel the command waiting to run after a training (`gsv train --then`)")
    p.set_defaults(func=run)


def _find(project_root, job_id: str) -> jobs.JobInfo:
    found = [j for j in jobs.list_jobs(project_root) if j.id == job_id or j.id.startswith(job_id)]
    if not found:
        fail(f"no job {job_id!r} in this project (see `gsv jobs`)")
    return found[0]


def run(args: argparse.Namespace) -> int:
    project = open_project(args)
    if args.cancel_then:
        from engine.jobs import then

        steps = [d.name for d in (project.root / "runs").glob("*") if d.is_dir()]
        cancelled = [s for s in steps if then.cancel(project.root, s)]
        if not cancelled:
            fail("no command is waiting to run after a job", 1)
        print(f"cancelled the command after {', '.join(cancelled)}; it will not run")
        return 0
    if args.cancel:
        job = jobs.cancel(_find(project.root, args.cancel).run_dir)
        print(f"job {job.id}: {job.state}")
        return 0
    if args.log:
        print((_find(project.root, args.log).run_dir / "log.txt").read_text(errors="replace"), end="")
        return 0
    if args.follow is not None:
        if args.follow:
            job = _find(project.root, args.follow)
        else:
            running = [j for j in jobs.list_jobs(project.root) if j.active]
            if not running:
                fail("no job is running (see `gsv jobs`)", 1)
            job = running[0]
        return follow(job)
    listing = jobs.list_jobs(project.root)
    if not listing:
        print("no jobs yet")
    for j in listing:
        when = dt.datetime.fromtimestamp(j.started).strftime("%Y-%m-%d %H:%M")
        extra = j.summary or j.reason
        print(f"{j.id}  {j.step:<10} {j.state:<9} {when}  {extra}")
    return 0


def follow(job: jobs.JobInfo) -> int:
    """Replay the job's events so far, then stream new ones until it ends."""
    printer = ProgressPrinter()
    offset = 0
    print(f"following job {job.id} ({job.step}); Ctrl-C stops following, not the job")
    while True:
        events, offset = jobs.read_events(job.run_dir, offset)
        for _, ev in events:
            if isinstance(ev, Progress):
                printer.progress(ev)
            elif isinstance(ev, Log):
                printer.line(ev.line)
            elif isinstance(ev, Result):
                printer.line(ev.summary)
            elif isinstance(ev, Failed):
                printer.line(f"failed: {ev.reason}" + (f"\n  what to do: {ev.hint}" if ev.hint else ""))
        job = jobs.load_job(job.run_dir)
        if not job.active:
            events, offset = jobs.read_events(job.run_dir, offset)
            if not events:
                if job.state == "failed" and job.reason:
                    printer.line(f"job {job.id}: {job.state}. {job.reason}")
                    if job.hint:
                        printer.line(job.hint)
                else:
                    printer.line(f"job {job.id}: {job.state}")
                return 0 if job.state == "done" else 1
            continue
        time.sleep(0.25)
