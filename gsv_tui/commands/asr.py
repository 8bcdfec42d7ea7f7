"""``gsv asr``: transcribe the sliced clips into the upstream ``.list`` (faster-whisper or
FunASR). Settings stored in the project are the defaults; flags given here win."""
from __future__ import annotations

import argparse

from gsv_tui.commands._common import add_job_args, add_project_arg, open_project, run_step_cli

# flag -> request field; flags left out keep the project's stored value (or the default)
_FIELDS = ("backend", "model", "model_dir", "language", "device", "compute_type", "beam_size",
           "vad_min_silence_ms", "batch_size", "threads", "clips_dir", "speaker")


def register(sub: argparse._SubParsersAction) -> None:
    from engine.asr.request import BACKENDS, COMPUTE_TYPES, DEVICES, LANGUAGES

    p = sub.add_parser("asr", help="speech recognition: a first transcript of every clip")
    p.add_argument("--backend", choices=BACKENDS, default=None,
                   help="recogniser (default auto: FunASR for Chinese, Whisper otherwise)")
    p.add_argument("--model", default=None,
                   help="tiny … large-v3, large-v3-turbo, paraformer-zh, sensevoice")
    p.add_argument("--model-dir", default=None, help="use this local model folder")
    p.add_argument("--language", choices=LANGUAGES, default=None,
                   help="spoken language (default: the project's; auto detects per clip)")
    p.add_argument("--device", choices=DEVICES, default=None)
    p.add_argument("--compute-type", choices=COMPUTE_TYPES, default=None,
                   help="Whisper precision (default: int8 on CPU, float16 on GPU)")
    p.add_argument("--beam-size", type=int, default=None, help="Whisper beam (default 5)")
    p.add_argument("--no-vad", action="store_true", help="do not drop non-speech with VAD")
    p.add_argument("--vad-min-silence-ms", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None, help="windows decoded together")
    p.add_argument("--no-pack", action="store_true",
                   help="one Whisper window per clip (slower; no word-timing split)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (0: all cores)")
    p.add_argument("--clips-dir", default=None, help="clips folder (default: audio/slices)")
    p.add_argument("--speaker", default=None, help="the .list speaker field (default: slug)")
    p.add_argument("--offline", action="store_true",
                   help="never download; use local or cached models only")
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


def build_request(args: argparse.Namespace, project):
    from engine.asr.request import AsrRequest
    from engine.settings import apply

    req = apply(AsrRequest, project.step_settings("asr"), project_root=str(project.root))
    if args.language is None and "language" not in project.step_settings("asr"):
        lang = getattr(project, "language", "")
        if lang in ("zh", "en", "ja", "ko", "yue"):
            req.language = lang
    for name in _FIELDS:
        value = getattr(args, name, None)
        if value is not None:
            setattr(req, name, value)
    if args.no_vad:
        req.vad_filter = False
    if args.no_pack:
        req.pack_clips = False
    if args.offline:
        req.allow_download = False
    return req


def run(args: argparse.Namespace) -> int:
    from engine.asr.step import run_asr

    project = open_project(args)
    req = build_request(args, project)
    if args.list_models:
        return list_models(req.language)
    return run_step_cli(args, "asr", run_asr, req)
