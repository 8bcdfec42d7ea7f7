"""``gsv status``: each step's status, its last message, and running jobs."""
from __future__ import annotations

import argparse
import json

from engine import jobs
from engine.steps import STEPS
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
    if args.json:
        print(json.dumps({
            "name": project.name, "slug": project.slug, "language": project.language,
            "version": project.version,
            "steps": {s.id: {"status": project.step(s.id).status,
                             "message": project.step(s.id).message} for s in STEPS},
            "jobs": [{"id": j.id, "step": j.step, "state": j.state} for j in active],
        }, ensure_ascii=False, indent=1))
        return 0
    print(f"{project.name}  [{project.slug}]  {project.language} · {project.version}  {project.root}")
    for s in STEPS:
        st = project.step(s.id)
        msg = f"  {st.message}" if st.message else ""
        print(f"  {MARKS.get(st.status, '?')} {s.title:<11} {st.status:<8}{msg}")
    for j in active:
        p = j.progress
        done = f" {p.get('done', 0):g}/{p.get('total') or '?'}" if p else ""
        eta = f" eta {fmt_eta(p.get('eta_s'))}" if p and p.get("eta_s") is not None else ""
        print(f"  job {j.id} ({j.step}) {j.state}{done}{eta}")
    return 0
