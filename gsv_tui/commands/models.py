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
    from engine.audio.separation.catalog import by_name

    general = [s for n, s in specs.items() if n not in by_name()]  # listed below, with more
    for spec, folder in iter_ready(general):
        mark = "✔" if folder else "·"
        where = str(folder) if folder else f"{spec.repo_id} ({'ModelScope' if spec.source == 'ms' else 'Hugging Face'})"
        print(f"{mark} {names[id(spec)]:<24} {where}")
    from engine.audio.separation.catalog import SEPARATION
    from engine.audio.separation.chain import uvr_dir

    print(f"separation models for Clean (in {uvr_dir()}):")
    for m in SEPARATION:
        here = all((uvr_dir() / f).is_file() or any(uvr_dir().rglob(f)) for f in m.files)
        how = "gsv models get" if m.fetch else "by hand"
        print(f"{'✔' if here else '·'} {m.name:<24} {m.family:<4} {m.use}; {', '.join(m.files)}"
              f" — {m.where} ({how}); licence: {m.licence}")
    print("fetch one with: gsv models get NAME   (HF_ENDPOINT or the app config's mirror is honoured)")
    return 0
