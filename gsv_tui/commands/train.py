"""``gsv train``: fine-tune SoVITS, then GPT, on the formatted data set."""
from __future__ import annotations

import argparse
import json

from engine.settings import apply
from engine.train.step import STAGES, TrainRequest, run_train
from gsv_tui.commands._common import add_job_args, add_project_arg, open_project, run_step_cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fine-tune SoVITS then GPT (resumes from the newest checkpoint)")
    add_project_arg(p)
    add_job_args(p)
    p.add_argument("--stages", choices=STAGES, default=None, help="both (default), sovits or gpt")
    p.add_argument("--sovits-epochs", type=int, default=None)
    p.add_argument("--gpt-epochs", type=int, default=None)
    p.add_argument("--sovits-batch-size", type=int, default=None)
    p.add_argument("--gpt-batch-size", type=int, default=None)
    p.add_argument("--dpo", action="store_true", default=None, help="GPT: DPO objective (experimental)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
    p.add_argument("--offline", action="store_true", help="never download pretrained bases")
    p.add_argument("--sovits-json", default=None, help="advanced SoVITS trainer fields, as JSON")
    p.add_argument("--gpt-json", default=None, help="advanced GPT trainer fields, as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    project = open_project(args)
    stored = project.step_settings("train")
    for name in ("stages", "sovits_epochs", "gpt_epochs", "sovits_batch_size", "gpt_batch_size",
                 "dpo", "device"):
        if getattr(args, name) is not None:
            stored[name] = getattr(args, name)
    fixed = {"project_root": str(project.root), "allow_download": not args.offline}
    if args.sovits_json:
        fixed["sovits"] = json.loads(args.sovits_json)
    if args.gpt_json:
        fixed["gpt"] = json.loads(args.gpt_json)
    request = apply(TrainRequest, stored, **fixed)
    return run_step_cli(args, "train", run_train, request)
