"""The trained weights a user can listen to and pick: ``SoVITS_weights/*.pth`` and
``GPT_weights/*.ckpt`` with epoch, step, time and size, and "use this one for synthesis"
(stored as the Synthesize step's ``sovits_path`` / ``gpt_path`` settings)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from engine.layout import Layout

_SOVITS = re.compile(r"_e(\d+)_s(\d+)$")
_GPT = re.compile(r"-e(\d+)$")
SETTING = {"SoVITS": "sovits_path", "GPT": "gpt_path"}


@dataclass(frozen=True)
class Weights:
    kind: str  # "SoVITS" | "GPT"
    rel: str  # relative to the project root
    epoch: int
    step: int  # 0 where the name does not say (GPT exports)
    mtime: float
    bytes: int


def _scan(layout: Layout, folder: Path, suffix: str, kind: str, rx: re.Pattern[str]) -> list[Weights]:
    out = []
    if not folder.is_dir():
        return out
    for p in folder.iterdir():
        if not (p.is_file() and p.suffix == suffix):
            continue
        m = rx.search(p.stem)
        st = p.stat()
        out.append(Weights(kind, layout.rel(p), int(m[1]) if m else 0,
                           int(m[2]) if m and m.lastindex == 2 else 0, st.st_mtime, st.st_size))
    return out


def list_weights(layout: Layout) -> list[Weights]:
    """Every export, SoVITS then GPT, oldest epoch first."""
    s = _scan(layout, layout.sovits_weights_dir, ".pth", "SoVITS", _SOVITS)
    g = _scan(layout, layout.gpt_weights_dir, ".ckpt", "GPT", _GPT)
    return sorted(s, key=lambda w: (w.epoch, w.step, w.rel)) + \
        sorted(g, key=lambda w: (w.epoch, w.rel))


def use_for_synthesis(root: Path | str, w: Weights) -> None:
    """Store ``w`` as the weights Synthesize uses (the other kind's choice is kept)."""
    from engine.project import update_project

    def change(p) -> None:  # noqa: ANN001
        p.settings.setdefault("synthesize", {})[SETTING[w.kind]] = w.rel

    update_project(root, change)


def chosen(settings: dict, kind: str) -> str:
    return str(settings.get(SETTING[kind], "") or "")
