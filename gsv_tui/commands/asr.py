"""``gsv asr``: transcribe the sliced clips into the upstream ``.list`` (faster-whisper or
FunASR). Settings stored in the project are the defaults; flags given here win."""
from __future__ import annotations

import argparse

from gsv_tui.commands._common import (add_job_args, add_project_arg, add_settings_flags,
                                      open_project, run_registered)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("asr", help="speech recognition: a first transcript of every clip")
    add_settings_flags(p, "asr")
    p.add_argument("--list-models", action="store_true",
                   help="show the models, which are on this machine, and the recommendation")
    add_project_arg(p)
    add_job_args(p)
    p.set_defaults(func=run)


def list_models(language: str) -> int:
    from engine.asr.models import (FUNASR_MODELS, WHISPER_MODELS, funasr_spec, recommend,
                                   whisper_spec)
    from engine.asr.whisper import resolve_device
    from engine.hub import default_dir, iter_ready

    specs = [whisper_spec(m) for m in WHISPER_MODELS] + [funasr_spec(m) for m in FUNASR_MODELS]
    for spec, path in iter_ready(specs):
        where = str(path) if path else f"not here (would go to {default_dir(spec)})"
        print(f"{spec.name:28} {spec.repo_id:60} {where}")
    rec = recommend(language, resolve_device("auto"))
    print(f"recommended for {language}: {rec.backend} {rec.model} ({rec.reason})")
    return 0


def run(args: argparse.Namespace) -> int:
    project = open_project(args)
    if args.list_models:
        from engine.requests import effective_settings

        language = args.language or effective_settings(project, "asr")["language"]
        return list_models(language)
    return run_registered(args, "asr", project=project)
