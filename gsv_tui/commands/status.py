"""``gsv status``: each step's status, its last message, and what runs now (jobs, and
inline runs such as a `gsv train` in another terminal, seen through the step locks)."""
from __future__ import annotations

import argparse
import dataclasses
import json

from engine import jobs
from engine.steplock import holder, step_title
from engine.steps import RUN_IDS, STEP_IDS
from engine.train.plan import resume_line, resume_points
from gsv_tui.commands._common import add_project_arg, fmt_eta, open_project

MARKS = {"pending": "·", "running": "▶", "done": "✔", "failed": "✘", "stale": "↻"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="show the project's steps and running jobs")
    add_project_arg(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    project = open_project(args)
    active = [j for j in jobs.list_jobs(project.root) if j.active]
    job_steps = {j.step for j in active}
    inline = {sid: h for sid in RUN_IDS if sid not in job_steps
              and (h := holder(project.root, sid)) is not None and not h.job}
    # Actions (export, listen) are listed once they have run; wizard steps always.
    shown = [sid for sid in RUN_IDS if sid in STEP_IDS or project.step(sid).status != "pending"]
    if args.json:
        print(json.dumps({
            "name": project.name, "slug": project.slug, "language": project.language,
            "version": project.version,
            "steps": {sid: {"status": project.step(sid).status,
                            "message": project.step(sid).message} for sid in shown},
            "jobs": [{"id": j.id, "step": j.step, "state": j.state} for j in active],
            "inline": [{"step": sid, "pid": h.pid, "how": h.how} for sid, h in inline.items()],
            "train_resume": {k: dataclasses.asdict(v) for k, v in resume_points(project).items()},
        }, ensure_ascii=False, indent=1))
        return 0
    print(f"{project.name}  [{project.slug}]  {project.language} · {project.version}  {project.root}")
    for sid in shown:
        st = project.step(sid)
        msg = f"  {st.message}" if st.message else ""
        print(f"  {MARKS.get(st.status, '?')} {step_title(sid):<11} {st.status:<8}{msg}")
        if sid == "train":  # where the next `gsv train` starts
            print(f"    {'':<11} {resume_line(project)}")
    for j in active:
        p = j.progress
        done = f" {p.get('done', 0):g}/{p.get('total') or '?'}" if p else ""
        eta = f" eta {fmt_eta(p.get('eta_s'))}" if p and p.get("eta_s") is not None else ""
        print(f"  job {j.id} ({j.step}) {j.state}{done}{eta}")
    for sid, h in inline.items():
        by = f" `{h.how}`" if h.how else ""
        print(f"  {sid} running inline{by} (pid {h.pid or '?'})")
    return 0
