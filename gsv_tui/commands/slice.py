"""``gsv slice``: cut the recordings into 32 kHz clips at silences (upstream's slicer)."""
from __future__ import annotations

import argparse

from gsv_tui.commands._common import add_job_args, add_project_arg, open_project, run_step_cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("slice", help="cut recordings into short clips at silences")
    p.add_argument("--source", default="",
                   help="file or folder (default: audio/clean if it has audio, else audio/raw)")
    p.add_argument("--threshold-db", type=float, default=-34.0, help="silence below this RMS")
    p.add_argument("--min-length-ms", type=int, default=4000, help="shortest clip")
    p.add_argument("--min-interval-ms", type=int, default=300, help="shortest silence to cut at")
    p.add_argument("--hop-ms", type=int, default=10, help="RMS hop")
    p.add_argument("--max-sil-kept-ms", type=int, default=500, help="silence kept around cuts")
    p.add_argument("--normalize-max", type=float, default=0.9, help="peak of the normalised mix")
    p.add_argument("--alpha", type=float, default=0.25, help="share of the normalised copy")
    p.add_argument("--max-clip-s", type=float, default=0.0,
                   help="longest clip in seconds (0: the GPU's memory in GB)")
    p.add_argument("--short-clip-s", type=float, default=1.0,
                   help="list clips shorter than this as outliers")
    add_project_arg(p)
    add_job_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.audio.slice_step import SliceRequest, run_slice

    project = open_project(args)
    req = SliceRequest(project_root=str(project.root), source=args.source,
                       threshold_db=args.threshold_db, min_length_ms=args.min_length_ms,
                       min_interval_ms=args.min_interval_ms, hop_ms=args.hop_ms,
                       max_sil_kept_ms=args.max_sil_kept_ms, normalize_max=args.normalize_max,
                       alpha=args.alpha, max_clip_s=args.max_clip_s,
                       short_clip_s=args.short_clip_s)
    return run_step_cli(args, "slice", run_slice, req)
