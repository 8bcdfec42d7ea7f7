"""``gsv models``: which models are on this machine; ``gsv models get NAME`` fetches one."""
from __future__ import annotations

import argparse

from gsv_tui.commands._common import add_job_args, run_step_cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the models the wizard uses, or fetch one")
    p.add_argument("action", nargs="?", choices=("list", "get"), default="list")
    p.add_argument("name", nargs="?", help="model name (see the list)")
    add_job_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.hub import iter_ready
    from engine.model_catalog import DownloadRequest, catalog, run_download

    specs = catalog()
    if args.action == "get":
        if not args.name:
            print("gsv models get NAME — names: " + ", ".join(sorted(specs)))
            return 2
        return run_step_cli(args, "models", run_download, DownloadRequest(args.name))
    names = {id(s): n for n, s in specs.items()}
    for spec, folder in iter_ready(list(specs.values())):
        mark = "✔" if folder else "·"
        where = str(folder) if folder else f"{spec.repo_id} ({'ModelScope' if spec.source == 'ms' else 'Hugging Face'})"
        print(f"{mark} {names[id(spec)]:<24} {where}")
    print("fetch one with: gsv models get NAME   (HF_ENDPOINT or the app config's mirror is honoured)")
    return 0
