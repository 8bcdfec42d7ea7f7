"""``gsv export``: the take-home bundle (weights in upstream's format, reference clip and
its text, settings), as a folder and a zip under output/."""
from __future__ import annotations

import argparse

from gsv_tui.commands._common import (add_job_args, add_project_arg, add_settings_flags,
                                      run_registered)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="bundle the voice (GPT + SoVITS weights, reference, "
                                      "settings) so it also loads in upstream GPT-SoVITS")
    add_project_arg(p)
    add_job_args(p)
    p.add_argument("--dest", default="",
                   help="bundle folder: a new or empty one (default: output/<slug>-export)")
    add_settings_flags(p, "export", aliases={"gpt_path": ("--gpt",), "sovits_path": ("--sovits",),
                                             "ref_wav": ("--ref",), "ref_language": ("--ref-lang",)})
    p.add_argument("--no-zip", dest="make_zip", action="store_false", default=None,
                   help="write the folder only (= --no-make-zip)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_registered(args, "export", inputs={"dest": args.dest})
