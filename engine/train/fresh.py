"""Start training afresh without losing anything: the training states (logs_s2_<v>/,
logs_s1_<v>/) and the exports (SoVITS_weights/, GPT_weights/ files) are moved, never
deleted, into ``<folder>/set-aside-<stamp>/`` beside where they were; a new run then starts
from the pretrained base and cannot overwrite an earlier export of the same epoch.

Moved under the Train step's lock, so never under a running training. Synthesize's stored
choice of weights follows a moved file to its new place."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.layout import Layout
from engine.steplock import Holder, StepLock


@dataclass
class SetAside:
    moved: list[tuple[str, str]] = field(default_factory=list)  # (from, to), project-relative

    def sentence(self) -> str:
        if not self.moved:
            return "Nothing to set aside: training already starts from the pretrained base."
        places = sorted({str(Path(to).parent) for _, to in self.moved})
        return (f"Set aside {len(self.moved)} file(s) and folder(s) (nothing deleted) into "
                + ", ".join(places) + "; the next run starts from the pretrained base.")


def set_aside(root: Path | str, slug: str, version: str) -> SetAside:
    root = Path(root)
    layout = Layout(root, slug)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = SetAside()
    with StepLock.acquire(root, "train", Holder(pid=os.getpid(), started=time.time(),
                                                how="start fresh")):
        exp = layout.exp_dir
        for name in (f"logs_s2_{version}", f"logs_s1_{version}"):
            src = exp / name
            if src.exists():
                out.moved.append(_move(layout, src, exp / f"set-aside-{stamp}" / name))
        for folder, suffix in ((layout.sovits_weights_dir, ".pth"), (layout.gpt_weights_dir, ".ckpt")):
            files = [p for p in folder.glob(f"*{suffix}") if p.is_file()] if folder.is_dir() else []
            for p in files:
                out.moved.append(_move(layout, p, folder / f"set-aside-{stamp}" / p.name))
    _follow_synthesis(root, dict(out.moved))
    return out


def _move(layout: Layout, src: Path, dest: Path) -> tuple[str, str]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.rename(src, dest)  # same file system: atomic, and nothing is copied or half-moved
    return layout.rel(src), layout.rel(dest)


def _follow_synthesis(root: Path, moved: dict[str, str]) -> None:
    from engine.project import update_project

    def change(p) -> None:  # noqa: ANN001
        synth = p.settings.get("synthesize", {})
        for key in ("sovits_path", "gpt_path"):
            if synth.get(key) in moved:
                synth[key] = moved[synth[key]]

    update_project(root, change)
