"""``gsv doctor``: GPU and VRAM, ffmpeg, audio players, free disk, models; each problem with its fix."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.doctor import run_checks

MARK = {"ok": "✔", "warn": "!", "fail": "✘"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check GPU, ffmpeg, audio playback, disk and models")
    p.add_argument("-C", "--project", dest="sub_project", default=None, help="project folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    checks = run_checks(Path(args.sub_project) if args.sub_project else None)
    for c in checks:
        print(f"{MARK.get(c.status, '?')} {c.name:<20} {c.detail}")
        if c.fix and c.status != "ok":
            lines = c.fix.splitlines()
            print(f"  {'':<20} fix: {lines[0]}")
            for line in lines[1:]:
                print(f"  {'':<20}      {line}")
    return 1 if any(c.status == "fail" for c in checks) else 0
