"""``gsv denoise``: clean the imported recordings (audio/raw → audio/clean)."""
from __future__ import annotations

import argparse

from gsv_tui.commands._common import add_job_args, add_project_arg, open_project, run_step_cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("denoise", help="denoise or isolate the voice (optional step)")
    p.add_argument("--method", default="spectral", choices=("spectral", "mdx"),
                   help="spectral: built-in gate, CPU, no weights (default); mdx: your "
                        "MDX-Net ONNX models")
    p.add_argument("--model", dest="models", action="append", default=[],
                   help="an MDX-Net .onnx file (name in the models folder's uvr5/, or a "
                        "path); repeat to chain, in order")
    p.add_argument("--preset", default="", choices=("", "dereverb-deecho"),
                   help="pick dereverb then de-echo models from the models folder")
    p.add_argument("--strength", type=float, default=0.9, help="spectral: 0…1 (default 0.9)")
    p.add_argument("--noise-std", type=float, default=1.5,
                   help="spectral: threshold above the noise floor in spreads (default 1.5)")
    p.add_argument("--keep-other", action="store_true",
                   help="also write what was removed, under audio/clean/other")
    p.add_argument("--mdx-n-fft", type=int, default=0, help="mdx: FFT size (0: from the name)")
    p.add_argument("--source", default="", help="a file or folder (default: audio/raw)")
    add_project_arg(p)
    add_job_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.audio.denoise_step import DenoiseRequest, run_denoise

    project = open_project(args)
    method = "mdx" if (args.models or args.preset) else args.method
    req = DenoiseRequest(project_root=str(project.root), source=args.source, method=method,
                         models=args.models, preset=args.preset, strength=args.strength,
                         noise_std=args.noise_std, keep_other=args.keep_other,
                         mdx_n_fft=args.mdx_n_fft)
    return run_step_cli(args, "denoise", run_denoise, req)
