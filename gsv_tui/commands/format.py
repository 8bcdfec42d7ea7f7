"""``gsv format``: the proofread transcript -> upstream's experiment folder (1A)."""
from __future__ import annotations

import argparse

from engine.dataset.format import FormatRequest, run_format
from engine.settings import apply
from gsv_tui.commands._common import add_job_args, add_project_arg, open_project, run_step_cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("format", help="phonemes, BERT, HuBERT and semantic tokens for training "
                                      "(upstream's 1A); re-runs do only missing work")
    add_project_arg(p)
    add_job_args(p)
    p.add_argument("--list", dest="list_path", default=None,
                   help="transcript to format (default: asr/<slug>.list)")
    p.add_argument("--version", choices=("project", "v1", "v2"), default=None)
    p.add_argument("--bert-dir", default=None, help="folder of chinese-roberta-wwm-ext-large")
    p.add_argument("--hubert-dir", default=None, help="folder of chinese-hubert-base")
    p.add_argument("--sovits", dest="sovits_path", default=None,
                   help="pretrained SoVITS G file for the semantic tokens")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
    p.add_argument("--fp32", action="store_true", help="full precision on a GPU too")
    p.add_argument("--offline", action="store_true", help="never download pretrained models")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    project = open_project(args)
    stored = project.step_settings("format")
    for name in ("list_path", "version", "bert_dir", "hubert_dir", "sovits_path", "device"):
        if getattr(args, name) is not None:
            stored[name] = getattr(args, name)
    if args.fp32:
        stored["half"] = False
    request = apply(FormatRequest, stored, project_root=str(project.root),
                    allow_download=not args.offline)
    return run_step_cli(args, "format", run_format, request)
