"""Self-describing SoVITS training checkpoints.

Each save writes ``logs/<slug>/logs_s2_<ver>/D_<step>.pth`` then ``G_<step>.pth`` (or the
``_233333333333`` names when only the latest is kept, as upstream). Both are upstream's layout
``{model, iteration (= finished epochs), optimizer, learning_rate}`` so upstream can resume
from them, plus a ``gsv`` block: format, version, model config, global step, epoch in progress,
batches done in it, grad-scaler state and the request's settings. Writes are atomic.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.events import StepError

FORMAT = "gsv-sovits-train/1"
LATEST = 233333333333


@dataclass
class TrainState:
    epoch: int = 1  # epoch in progress (1-based)
    batch_in_epoch: int = 0  # batches of that epoch already trained
    step: int = 0  # global optimizer steps so far


def ckpt_dir(exp_dir: Path, version: str) -> Path:
    return exp_dir / f"logs_s2_{version}"


def atomic_torch_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_pair(folder: Path, net_g: torch.nn.Module, net_d: torch.nn.Module,
              optim_g: torch.optim.Optimizer, optim_d: torch.optim.Optimizer,
              scaler_state: dict, state: TrainState, meta: dict[str, Any],
              latest_only: bool) -> Path:
    """Write D then G (G last: a G file always has its D beside it). Returns the G path."""
    n = LATEST if latest_only else state.step
    finished = state.epoch - 1  # upstream's 'iteration': epochs fully trained
    lr = optim_g.param_groups[0]["lr"]
    gsv = dict(meta, format=FORMAT, step=state.step, epoch=state.epoch,
               batch_in_epoch=state.batch_in_epoch, scaler=scaler_state)
    for name, net, opt in (("D", net_d, optim_d), ("G", net_g, optim_g)):
        obj = OrderedDict(model=net.state_dict(), iteration=finished, optimizer=opt.state_dict(),
                          learning_rate=lr, gsv=gsv)
        atomic_torch_save(obj, folder / f"{name}_{n}.pth")
    return folder / f"G_{n}.pth"


def _digits(p: Path) -> int:
    return int("".join(re.findall(r"\d", p.name)) or 0)


def latest_pair(folder: Path) -> tuple[Path, Path] | None:
    gs = sorted(folder.glob("G_*.pth"), key=_digits)
    for g in reversed(gs):
        d = g.with_name("D_" + g.name[2:])
        if d.exists():
            return g, d
    return None


def load_pair(g_path: Path, d_path: Path) -> tuple[dict, dict]:
    def load(p: Path) -> dict:
        try:
            obj = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise StepError(f"The training checkpoint {p.name} cannot be read ({type(exc).__name__}).",
                            f"Delete {p.parent} to start training afresh.") from None
        if not isinstance(obj, dict) or "model" not in obj:
            raise StepError(f"{p.name} is not a SoVITS training checkpoint.",
                            f"Move it out of {p.parent}.")
        return obj

    return load(g_path), load(d_path)


def state_from(g: dict, steps_per_epoch: int) -> TrainState:
    gsv = g.get("gsv")
    if isinstance(gsv, dict) and gsv.get("format") == FORMAT:
        return TrainState(int(gsv["epoch"]), int(gsv["batch_in_epoch"]), int(gsv["step"]))
    done = int(g.get("iteration", 0))  # upstream's: finished epochs
    return TrainState(done + 1, 0, done * steps_per_epoch)


def check_compatible(g: dict, version: str, model_config: dict[str, Any], name: str) -> None:
    gsv = g.get("gsv") if isinstance(g.get("gsv"), dict) else {}
    theirs = gsv.get("version")
    if theirs and theirs != version:
        raise StepError(f"The checkpoint {name} was trained as SoVITS {theirs}, not {version}.",
                        "Use another experiment name, or delete its logs_s2 folder to start over.")
    cfg = gsv.get("model_config")
    if cfg is not None and cfg != model_config:
        diff = sorted(k for k in set(cfg) | set(model_config) if cfg.get(k) != model_config.get(k))
        raise StepError(f"The checkpoint {name} has a different model shape ({', '.join(diff)}).",
                        "Use another experiment name, or delete its logs_s2 folder to start over.")
