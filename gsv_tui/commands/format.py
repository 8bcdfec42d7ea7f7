"""``gsv format``: the proofread transcript -> upstream's experiment folder (1A)."""
from __future__ import annotations

import argparse

from gsv_tui.commands._common import (add_job_args, add_project_arg, add_settings_flags,
                                      run_registered)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("format", help="phonemes, BERT, HuBERT and semantic tokens for training "
                                      "(upstream's 1A); re-runs do only missing work")
    add_project_arg(p)
    add_job_args(p)
    add_settings_flags(p, "format", aliases={"list_path": ("--list",),
                                             "sovits_path": ("--sovits",)})
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_registered(args, "format")
