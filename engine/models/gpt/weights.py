"""GPT weight files in upstream's formats (spec §3.3–3.4).

* Small weights / pretrained bases: ``{"weight": {"model.<key>": fp16}, "config": dict,
  "info": "GPT-e<E>"}``, named ``<exp>-e<E>.ckpt``; upstream loads them strictly.
* Lightning training checkpoints (resume only): ``{"state_dict": {"model.<key>": ...},
  "hyper_parameters": {"config": ...}, ...}``.

Everything is read with ``torch.load(weights_only=True)``: no code from a file ever runs.
The architecture comes from the file's own ``config``.
"""
from __future__ import annotations

import io
import pathlib
import pickle
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.atomic import atomic_write_bytes
from engine.events import StepError
from engine.models.gpt.config import GptConfig, upstream_config
from engine.models.gpt.model import Text2Semantic

PREFIX = "model."
_HINT = ("Pick a GPT weights file (.ckpt) from GPT_weights*/ or the pretrained s1*.ckpt; "
         "SoVITS files (.pth) go in the SoVITS slot.")


@dataclass
class GptWeights:
    model: Text2Semantic
    config: GptConfig
    full_config: dict[str, Any]  # the file's whole config dict (max_sec, training settings)
    info: str
    path: Path


def weights_name(slug: str, epoch: int) -> str:
    return f"{slug}-e{epoch}.ckpt"


def _safe_load(path: Path) -> Any:
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError as e:
        raise StepError(f"Cannot read {path.name}: {e.strerror or e}.", "Check that the file exists.")
    if head != b"PK":
        raise StepError(f"{path.name} is not a PyTorch checkpoint (it is not a zip-format save).",
                        _HINT)
    try:
        # Lightning checkpoints may carry folder paths in their hyper-parameters.
        with torch.serialization.safe_globals([pathlib.PosixPath, pathlib.WindowsPath,
                                               pathlib.PurePosixPath, pathlib.PureWindowsPath]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, zipfile.BadZipFile, EOFError) as e:
        text = str(e)
        if "HParams" in text or "utils" in text:
            raise StepError(f"{path.name} looks like a SoVITS model, not a GPT model.", _HINT)
        raise StepError(f"{path.name} could not be read safely as GPT weights "
                        f"({text.splitlines()[0][:160] if text else type(e).__name__}).", _HINT)


def _split(obj: Any, name: str) -> tuple[dict[str, torch.Tensor], dict[str, Any], str]:
    if not isinstance(obj, dict):
        raise StepError(f"{name} holds a {type(obj).__name__}, not a GPT checkpoint dict.", _HINT)
    if isinstance(obj.get("weight"), dict):
        weight, config, info = obj["weight"], obj.get("config"), str(obj.get("info", ""))
    elif isinstance(obj.get("state_dict"), dict):  # Lightning training checkpoint
        weight = obj["state_dict"]
        hp = obj.get("hyper_parameters") or {}
        config = hp.get("config") if isinstance(hp, dict) else None
        info = f"epoch={obj.get('epoch')}-step={obj.get('global_step')}"
    else:
        raise StepError(f"{name} has no 'weight' or 'state_dict' entry, so it is not GPT weights.",
                        _HINT)
    if not any(k.startswith(PREFIX + "ar_") for k in weight):
        if any(k.startswith(("enc_p.", "dec.", "flow.")) for k in weight):
            raise StepError(f"{name} is a SoVITS model, not a GPT model.", _HINT)
        raise StepError(f"{name} does not contain GPT-SoVITS GPT weights.", _HINT)
    if not isinstance(config, dict) or not isinstance(config.get("model"), dict):
        raise StepError(f"{name} has no model config, so its architecture is unknown.",
                        "Export the weights again with GPT-SoVITS or gsv-tui.")
    return weight, config, info


def load_gpt(path: str | Path, *, device: str | torch.device = "cpu",
             dtype: torch.dtype = torch.float32) -> GptWeights:
    """Load upstream (or our) GPT weights strictly into a fresh model in eval mode."""
    path = Path(path)
    weight, config, info = _split(_safe_load(path), path.name)
    cfg = GptConfig.from_upstream(config["model"])
    model = Text2Semantic(cfg)
    state = {k[len(PREFIX):]: v for k, v in weight.items() if k.startswith(PREFIX)}
    result = model.load_state_dict(state, strict=False)
    problems = list(result.missing_keys) + list(result.unexpected_keys)
    if problems or len(state) != len(weight):
        raise StepError(f"{path.name} does not match its own config "
                        f"({len(result.missing_keys)} missing, "
                        f"{len(result.unexpected_keys) + len(weight) - len(state)} unexpected tensors, "
                        f"e.g. {problems[:1] or list(weight)[:1]}).",
                        "The file is damaged or from an unsupported GPT-SoVITS version.")
    model.to(device=device, dtype=dtype).eval()
    return GptWeights(model, cfg, config, info, path)


def export_state(model: Text2Semantic) -> "OrderedDict[str, torch.Tensor]":
    """fp16 tensors under the ``model.`` prefix, in upstream's key order."""
    return OrderedDict((PREFIX + k, v.detach().to("cpu", torch.float16).clone())
                       for k, v in model.state_dict().items())


def export_gpt(model: Text2Semantic, out_dir: str | Path, slug: str, epoch: int,
               config: dict[str, Any] | None = None) -> Path:
    """Write ``<out_dir>/<slug>-e<epoch>.ckpt`` exactly as upstream's small-weights saver;
    atomic, so a crash never leaves half a file where the synthesizer would pick it up."""
    cfg = dict(config) if config else upstream_config(model.cfg, exp_name=slug)
    cfg["model"] = model.cfg.to_upstream()
    data = OrderedDict(weight=export_state(model), config=cfg, info=f"GPT-e{epoch}")
    buf = io.BytesIO()
    torch.save(data, buf)
    path = Path(out_dir) / weights_name(slug, epoch)
    atomic_write_bytes(path, buf.getvalue())
    return path
