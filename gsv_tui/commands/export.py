"""``gsv export``: the take-home bundle (weights in upstream's format, reference clip and
its text, settings), as a folder and a zip under output/."""
from __future__ import annotations

import argparse

from engine.synth.request import LANGS, ExportRequest
from gsv_tui.commands._common import add_job_args, add_project_arg, open_project, run_step_cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="bundle the voice (GPT + SoVITS weights, reference, "
                                      "settings) so it also loads in upstream GPT-SoVITS")
    add_project_arg(p)
    add_job_args(p)
    p.add_argument("--gpt", default=None, help="GPT weights (.ckpt; default: the newest)")
    p.add_argument("--sovits", default=None, help="SoVITS weights (.pth; default: the newest)")
    p.add_argument("--ref", default=None, metavar="CLIP",
                   help="reference clip, 3–10 s (default: a proofread clip near 6 s)")
    p.add_argument("--ref-text", default=None, help="what the reference says (default: from the .list)")
    p.add_argument("--ref-lang", choices=LANGS, default=None)
    p.add_argument("--dest", default=None, help="bundle folder (default: output/<slug>-export)")
    p.add_argument("--no-zip", action="store_true", help="write the folder only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    project = open_project(args)
    from engine.synth.export import run_export

    request = ExportRequest(str(project.root), gpt_path=args.gpt or "",
                            sovits_path=args.sovits or "", ref_wav=args.ref or "",
                            ref_text=args.ref_text or "",
                            ref_language=args.ref_lang or project.language,
                            dest=args.dest or "", make_zip=not args.no_zip)
    return run_step_cli(args, "synthesize", run_export, request)
