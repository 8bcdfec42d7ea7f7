"""``gsv convert FILE…``: say recorded speech again in the trained voice (the voice
changer). Results go to output/converted/; sources are only read."""
from __future__ import annotations

import argparse
from pathlib import Path

from gsv_tui.commands._common import (add_job_args, add_project_arg, add_settings_flags, fail,
                                      run_registered)

ALIASES = {"ref_wav": ("--ref",), "sovits_path": ("--sovits",), "language": ("--lang",),
           "pitch_semitones": ("--pitch",), "max_clip_s": ("--max-clip",)}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="say recorded speech again in the trained voice "
                                       "(voice changer)")
    p.add_argument("sources", nargs="+", help="speech files or folders of them")
    p.add_argument("--text", default="",
                   help="what the source says (one file only; default: the project's ASR "
                        "transcribes it)")
    p.add_argument("--text-file", default=None, metavar="PATH",
                   help="read that text from a UTF-8 file")
    add_settings_flags(p, "convert", aliases=ALIASES)
    add_project_arg(p)
    add_job_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    text = args.text
    if args.text_file:
        try:
            text = Path(args.text_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {args.text_file}: {exc}")
    # Absolute now: a job runs elsewhere, and relative names would be read from the project.
    sources = [str(Path(s).expanduser().resolve()) for s in args.sources]
    return run_registered(args, "convert", inputs={"sources": sources, "text": text})
