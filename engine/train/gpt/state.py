"""Self-describing GPT training checkpoints (resume needs nothing else).

``logs/<slug>/logs_s1_<ver>/gsv/epoch=<E>-step=<S>.pt`` holds the model (fp32), the
optimizer, where in the data the run is, the settings that shape the data order, the
upstream config and the RNG state. Written atomically (a kill or a full disk leaves the old
files and at most a ``.tmp``, removed at the next start). Two are kept, the newest and the one
it was trained from, so an unreadable newest one falls back to it; older ones are removed
before a new one is written (each is model + 2x optimizer moments, ~0.9 GB at full size).
Read back with ``weights_only=True``; an unreadable state is renamed ``*.unreadable``, never
deleted.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.atomic import atomic_write_bytes
from engine.events import StepError

if TYPE_CHECKING:  # torch loads only to read or write a state (plans list the names)
    import torch

FORMAT = "gsv-tui/gpt-train"
FORMAT_VERSION = 1
_NAME = re.compile(r"^epoch=(\d+)-step=(\d+)\.pt$")
_TEMP = re.compile(r"^\.epoch=\d+-step=\d+\.pt\..+\.tmp$")  # atomic_write_bytes' temp names


class Unreadable(StepError):
    """A saved state that cannot be read at all (truncated, corrupt, foreign)."""


def state_dir(exp_dir: Path, version: str) -> Path:
    return exp_dir / f"logs_s1_{version}" / "gsv"


@dataclass
class TrainState:
    epoch: int  # epochs completed
    batch: int  # next batch index inside epoch ``epoch``
    global_batch: int  # batches trained so far (all calls)
    opt_steps: int
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    config: dict[str, Any]  # upstream-format config dict (model section = architecture)
    shape: dict[str, Any]  # settings that fix the data order: batch size, dpo, accumulate, seed
    world: int = 1  # training processes that wrote it (a mid-epoch resume point is rescaled)


def save_state(folder: Path, st: TrainState, keep: Path | None = None) -> Path:
    """Write ``st``; afterwards the folder holds it and ``keep`` (the state this run resumed
    from or saved last), nothing older. Older ones go first, making room."""
    import torch

    data = {"format": FORMAT, "format_version": FORMAT_VERSION, "epoch": st.epoch,
            "batch": st.batch, "global_batch": st.global_batch, "opt_steps": st.opt_steps,
            "model": {k: v.detach().cpu() for k, v in st.model.items()},
            "optimizer": st.optimizer, "config": st.config, "shape": st.shape,
            "rng": torch.get_rng_state(), "world": st.world}
    buf = io.BytesIO()
    torch.save(data, buf)
    path = folder / f"epoch={st.epoch}-step={st.global_batch}.pt"
    for old in folder.glob("epoch=*-step=*.pt"):
        if old not in (path, keep):
            old.unlink(missing_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return path


def remove_leftovers(folder: Path) -> list[str]:
    """Delete the temp files of saves that a kill interrupted; one line per file."""
    lines = []
    if folder.is_dir():
        for p in folder.iterdir():
            if _TEMP.match(p.name):
                size = p.stat().st_size
                p.unlink(missing_ok=True)
                lines.append(f"removed {p.name} ({size / 2**20:.1f} MB), left by an "
                             "interrupted save")
    return lines


def saved_states(folder: Path) -> list[Path]:
    """Saved states, newest first."""
    found = [(int(m[1]), int(m[2]), p) for p in folder.glob("*.pt") if (m := _NAME.match(p.name))]
    return [p for *_, p in sorted(found, reverse=True)]


def set_aside(path: Path) -> Path:
    """Move an unreadable state out of the way (keeping its bytes)."""
    dest = path.with_name(path.name + ".unreadable")
    os.replace(path, dest)
    return dest


def latest_state(folder: Path) -> Path | None:
    states = saved_states(folder)
    return states[0] if states else None


def load_state(path: Path) -> TrainState:
    import torch

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file: say which, do not guess
        raise Unreadable(f"The saved training state {path.name} cannot be read ({type(e).__name__}).",
                         f"Move {path} aside to start this GPT training from the beginning.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise Unreadable(f"{path.name} is not a gsv-tui GPT training state.",
                         f"Move it out of {path.parent} and start again.")
    if data.get("format_version") != FORMAT_VERSION:
        raise StepError(f"{path.name} was written by another gsv-tui version "
                        f"(format {data.get('format_version')}).",
                        f"Delete {path} to restart training, or use the gsv-tui that wrote it.")
    if "rng" in data:
        torch.set_rng_state(data["rng"])
    return TrainState(data["epoch"], data["batch"], data["global_batch"], data["opt_steps"],
                      data["model"], data["optimizer"], data["config"], data["shape"],
                      int(data.get("world", 1)))
