"""VR-architecture model parameters: UVR's multi-band spectrogram layout (its modelparams
JSON), and which layout a given .pth uses.

A layout splits a 44.1 kHz stereo wave into bands, each resampled to its own rate and STFT'd
with its own FFT size and hop (same frames per second in every band), cropped to
``crop_start:crop_stop`` and stacked into ``bins + 1`` rows. The numbers below are UVR's
published files (facts carried over; the .pth itself does not record them, so UVR looks a
model up by its hash and upstream GPT-SoVITS uses one fixed layout per network kind).

Which layout, in order: the request's ``vr_params`` (a built-in name or a JSON path) → a JSON
with the model's stem beside it → the known names below → the network kind's default
(old CascadedASPPNet: 4band_v2; new CascadedNet: 4band_v3, as upstream's UVR5 tab).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.events import StepError


@dataclass(frozen=True)
class Band:
    sr: int
    hl: int  # hop length
    n_fft: int
    crop_start: int
    crop_stop: int
    lpf_start: int = 0
    lpf_stop: int = 0
    hpf_start: int = 0
    hpf_stop: int = 0


@dataclass(frozen=True)
class VrParams:
    name: str
    bins: int
    bands: tuple[Band, ...]  # lowest band first
    sr: int
    pre_filter_start: int
    pre_filter_stop: int
    mid_side: bool = False
    mid_side_b2: bool = False
    reverse: bool = False

    @property
    def n_fft(self) -> int:  # what the networks call n_fft: two rows per bin
        return self.bins * 2


_B12 = [{"sr": 7350, "hl": 80, "n_fft": 640, "crop_start": 0, "crop_stop": 85,
         "lpf_start": 25, "lpf_stop": 53},
        {"sr": 7350, "hl": 80, "n_fft": 320, "crop_start": 4, "crop_stop": 87,
         "hpf_start": 25, "hpf_stop": 12, "lpf_start": 31, "lpf_stop": 62}]
_B34 = [{"sr": 14700, "hl": 160, "n_fft": 512, "crop_start": 17, "crop_stop": 216,
         "hpf_start": 48, "hpf_stop": 24, "lpf_start": 139, "lpf_stop": 210},
        {"sr": 44100, "hl": 480, "n_fft": 960, "crop_start": 78, "crop_stop": 383,
         "hpf_start": 130, "hpf_stop": 86}]
_FOUR = {"bins": 672, "band": dict(enumerate(_B12 + _B34, 1)), "sr": 44100,
         "pre_filter_start": 668, "pre_filter_stop": 672}
# 4band_v2 and 4band_v3 differ only in UVR's post-processing hints (reduction_bins), which
# this engine does not use; both names are kept because model cards name them.
BUILTIN: dict[str, dict] = {
    "4band_v2": _FOUR,
    "4band_v3": _FOUR,
    "1band_sr44100_hl512": {"bins": 1024, "band": {1: {
        "sr": 44100, "hl": 512, "n_fft": 2048, "crop_start": 0, "crop_stop": 1024,
        "hpf_start": -1}}, "sr": 44100, "pre_filter_start": 1023, "pre_filter_stop": 1024},
}

# Model names → layout, from upstream's UVR5 tab (HP*/VR-DeEcho* ship with GPT-SoVITS) and
# UVR's own names for the same networks. Matched case-insensitively on the file's stem.
KNOWN_NAMES: dict[str, str] = {
    "hp2_all_vocals": "4band_v2", "hp3_all_vocals": "4band_v2",
    "hp5_only_main_vocal": "4band_v2",
    "vr-deechoaggressive": "4band_v3", "vr-deechonormal": "4band_v3",
    "vr-deechodereverb": "4band_v3", "uvr-de-echo-aggressive": "4band_v3",
    "uvr-de-echo-normal": "4band_v3", "uvr-deecho-dereverb": "4band_v3",
}
DEFAULT_FOR_NET = {"old": "4band_v2", "new": "4band_v3"}


def parse(data: dict, name: str) -> VrParams:
    """A modelparams JSON (as UVR writes it: bands keyed "1".."n") → VrParams, checked."""
    try:
        raw = data["band"]
        keys = sorted(raw, key=int)
        bands = tuple(Band(**{k: int(v) for k, v in raw[key].items()
                              if k in Band.__dataclass_fields__}) for key in keys)
        p = VrParams(name=name, bins=int(data["bins"]), bands=bands, sr=int(data["sr"]),
                     pre_filter_start=int(data.get("pre_filter_start", 0)),
                     pre_filter_stop=int(data.get("pre_filter_stop", 0)),
                     mid_side=bool(data.get("mid_side", False)),
                     mid_side_b2=bool(data.get("mid_side_b2", False)),
                     reverse=bool(data.get("reverse", False)))
    except (KeyError, TypeError, ValueError) as exc:
        raise StepError(f"The VR model parameters {name} are not a UVR modelparams file "
                        f"({exc!r})", "Use one of UVR's modelparams JSON files, e.g. "
                        "4band_v3.json, or leave vr_params empty.") from exc
    rows = sum(b.crop_stop - b.crop_start for b in p.bands)
    if not p.bands or rows > p.bins or p.bands[-1].sr != p.sr:
        raise StepError(f"The VR model parameters {name} do not add up ({rows} rows for "
                        f"{p.bins} bins)", "Use the JSON that came with the model.")
    return p


def builtin(name: str) -> VrParams:
    return parse(BUILTIN[name], name)


def find_params(model: Path, net_kind: str, explicit: str = "") -> tuple[VrParams, str]:
    """(layout, where it came from) for ``model`` (see the module docstring)."""
    if explicit:
        if explicit in BUILTIN:
            return builtin(explicit), "setting"
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise StepError(f"No VR model parameters called {explicit}",
                            "Name a JSON file, or one of: " + ", ".join(BUILTIN))
        return _read(path), "setting"
    beside = model.with_suffix(".json")
    if beside.is_file():
        return _read(beside), beside.name
    known = KNOWN_NAMES.get(model.stem.lower())
    if known:
        return builtin(known), f"known name {model.stem}"
    return builtin(DEFAULT_FOR_NET[net_kind]), f"default for the {net_kind} network"


def _read(path: Path) -> VrParams:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StepError(f"Cannot read {path.name} as JSON ({exc})",
                        "Use the model's UVR modelparams JSON.") from exc
    return parse(data, path.stem)
