"""``gsv denoise``: clean the imported recordings (audio/raw → audio/clean)."""
from __future__ import annotations

import argparse

from gsv_tui.commands._common import (add_job_args, add_project_arg, add_settings_flags,
                                      run_registered)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("denoise", help="denoise or isolate the voice (optional step)")
    p.add_argument("--source", default="", help="a file or folder (default: audio/raw)")
    add_settings_flags(p, "denoise", aliases={"models": ("--model",)})
    add_project_arg(p)
    add_job_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = {}
    if (args.models or args.preset) and args.method is None:
        overrides["method"] = "mdx"  # naming models means MDX, as before
    return run_registered(args, "denoise", overrides=overrides, inputs={"source": args.source})
