"""Finding the voice's weight files: ``SoVITS_weights/<slug>_e<E>_s<S>.pth`` and
``GPT_weights/<slug>-e<E>.ckpt`` (upstream's names), ordered by epoch."""
from __future__ import annotations

import re
from pathlib import Path

from engine.events import StepError
from engine.layout import Layout

_EPOCH = re.compile(r"(?:_e|-e)(\d+)(?:_s(\d+))?$")


def epoch_key(p: Path) -> tuple[int, int, str]:
    m = _EPOCH.search(p.stem)
    return (int(m[1]), int(m[2] or 0), p.name) if m else (-1, -1, p.name)


def checkpoints(folder: Path, suffix: str) -> list[Path]:
    """The weight files in ``folder``, oldest epoch first."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix == suffix), key=epoch_key)


def sovits_files(layout: Layout) -> list[Path]:
    return checkpoints(layout.sovits_weights_dir, ".pth")


def gpt_files(layout: Layout) -> list[Path]:
    return checkpoints(layout.gpt_weights_dir, ".ckpt")


def pick(layout: Layout, given: str, kind: str) -> Path:
    """The file named by the user, or the newest export of ``kind`` ("GPT" | "SoVITS")."""
    if given:
        path = layout.abs(given).expanduser()
        if not path.is_file():
            raise StepError(f"The {kind} weights file {given} does not exist.",
                            "Pick an existing file, or leave it empty for the newest export.")
        return path
    found = gpt_files(layout) if kind == "GPT" else sovits_files(layout)
    if not found:
        folder = layout.gpt_weights_dir if kind == "GPT" else layout.sovits_weights_dir
        raise StepError(f"No trained {kind} weights in {folder.name}/.",
                        "Train first, or choose a weights file in the settings.")
    return found[-1]


def project_of(root: Path) -> tuple[Layout, str]:
    """The project's layout and model version; a bare folder (no project.toml) works too."""
    try:
        from engine.project import load_project

        p = load_project(root)
        return p.layout, p.version
    except Exception:  # noqa: BLE001 -- no or unreadable project.toml: use the folder name
        from engine.slug import slugify

        return Layout(root, slugify(root.resolve().name) or "voice"), "v2"
