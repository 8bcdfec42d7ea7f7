"""``gsv restore-backup``: put the last good project.toml back after a broken edit."""
from __future__ import annotations

import argparse

from engine.project import ProjectError, restore_backup
from gsv_tui.commands._common import fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("restore-backup", help="restore project.toml from its last good backup")
    p.add_argument("path", nargs="?", default=".", help="project folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        project = restore_backup(args.path)
    except ProjectError as exc:
        fail(str(exc))
    print(f"restored {project.file} (the broken one is kept as project.toml.broken)")
    return 0
