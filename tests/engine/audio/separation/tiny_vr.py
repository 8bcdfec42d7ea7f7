"""Tiny random VR-architecture models in the family's real file format: a state dict saved
with torch.save (UVR's key names and shapes at small widths) and, when asked, its UVR
modelparams JSON beside it. Built by the tests; nothing is downloaded."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from engine.audio.separation import vr_nets
from engine.audio.separation.vr_params import BUILTIN

# UVR's real widths are c1 32 / b2 16 / c2 32 / b3 32 / c3 64 (HP) and nout 48/64 (DeEcho)
OLD_TINY = {"c1": 2, "b2": 2, "c2": 2, "b3": 2, "c3": 4, "branches": 5, "five": False}
NEW_TINY = {"nout": 8, "nout_lstm": 8}


def _randomise(net: torch.nn.Module, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    sd = net.state_dict()
    for k, v in sd.items():
        if v.dtype.is_floating_point:
            if k.endswith("running_var"):
                v.copy_(torch.rand(v.shape, generator=g) + 0.5)
            elif k.endswith("running_mean"):
                v.zero_()
            else:
                v.copy_(torch.randn(v.shape, generator=g) * 0.3)
    return sd


def save_vr(path: Path, kind: str = "new", *, params: str = "4band_v3", seed: int = 0,
            json_beside: bool = False, widths: dict | None = None, half: bool = False) -> Path:
    n_fft = BUILTIN[params]["bins"] * 2
    w = dict(widths or (NEW_TINY if kind == "new" else OLD_TINY))
    net = (vr_nets.NewCascaded if kind == "new" else vr_nets.OldCascaded)(n_fft, w)
    sd = _randomise(net, seed)
    if half:  # upstream's UVR5 weights are stored in float16
        sd = {k: v.half() if v.dtype.is_floating_point else v for k, v in sd.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(sd, str(path))
    if json_beside:
        data = BUILTIN[params]
        out = {**data, "band": {str(k): v for k, v in data["band"].items()}}
        path.with_suffix(".json").write_text(json.dumps(out), encoding="utf-8")
    return path
