"""``gsv slice``: cut the recordings into 32 kHz clips at silences (upstream's slicer)."""
from __future__ import annotations

import argparse

from gsv_tui.commands._common import (add_job_args, add_project_arg, add_settings_flags,
                                      run_registered)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("slice", help="cut recordings into short clips at silences")
    p.add_argument("--source", default="",
                   help="file or folder (default: audio/clean if it has audio, else audio/raw)")
    add_settings_flags(p, "slice")
    add_project_arg(p)
    add_job_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_registered(args, "slice", inputs={"source": args.source})
