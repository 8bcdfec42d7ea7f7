"""``gsv new NAME``: create a project folder with its project.toml."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.appconfig import load_config, save_config
from engine.project import (LANGUAGES, MODEL_VERSIONS, NEW_PROJECT_VERSION, VERSION_NOTES,
                            ProjectError, create_project)
from engine.slug import slugify
from gsv_tui.commands._common import fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("new", help="create a new voice project (GPT-SoVITS v2ProPlus, v2Pro, v2 or v1)")
    p.add_argument("name", help="display name, any script (files use an ASCII slug)")
    p.add_argument("--dir", default=None, help="folder to create (default: ./<slug>)")
    p.add_argument("--language", default="en", choices=sorted(LANGUAGES), help="main language")
    p.add_argument("--version", default=NEW_PROJECT_VERSION, choices=MODEL_VERSIONS,
                   help=f"model version (default {NEW_PROJECT_VERSION}): " + "; ".join(
                       f"{v}: {note}" for v, note in VERSION_NOTES.items()))
    p.add_argument("--slug", default=None, help="ASCII name for files and models")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    slug = args.slug or slugify(args.name)
    root = Path(args.dir) if args.dir else Path.cwd() / slug
    try:
        project = create_project(root, args.name, language=args.language,
                                 version=args.version, slug=slug)
    except ProjectError as exc:
        fail(str(exc))
    cfg = load_config()
    cfg.add_recent(project.root)
    save_config(cfg)
    print(f"created project '{project.name}' ({project.slug}) in {project.root}")
    print(f"next: gsv import FILES -C {project.root}   (or open the wizard: gsv -C {project.root})")
    return 0
