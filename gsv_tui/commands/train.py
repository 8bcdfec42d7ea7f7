"""``gsv train``: fine-tune SoVITS, then GPT, on the formatted data set."""
from __future__ import annotations

import argparse
import json

from gsv_tui.commands._common import (add_job_args, add_project_arg, add_settings_flags, fail,
                                      run_registered)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fine-tune SoVITS then GPT (resumes from the newest checkpoint)")
    add_project_arg(p)
    add_job_args(p)
    add_settings_flags(p, "train")
    p.add_argument("--sovits-json", default=None, help="advanced SoVITS trainer fields, as JSON")
    p.add_argument("--gpt-json", default=None, help="advanced GPT trainer fields, as JSON")
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
    return run_registered(args, "train", inputs=inputs)
