"""``gsv demo``: build a small demo project from speech made on the spot, and open it."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.appconfig import data_dir
from engine.events import StepError
from engine.project import MODEL_VERSIONS
from gsv_tui.commands._common import fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="make a demo project (espeak-ng speech) and open it")
    p.add_argument("--dir", default=None, help="where to build it (default: app data folder)")
    p.add_argument("--no-open", action="store_true", help="only build it")
    p.add_argument("--version", choices=MODEL_VERSIONS, default="v2",
                   help="model version of the demo project (default: v2)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.demo import build_demo

    root = Path(args.dir) if args.dir else data_dir() / "demo-voice"
    try:
        project = build_demo(root, args.version)
    except StepError as exc:
        fail(f"{exc.reason}\n  what to do: {exc.hint}")
    print(f"demo project ready: {project.root}")
    if args.no_open:
        return 0
    from gsv_tui.cli import open_tui

    return open_tui(str(project.root))
