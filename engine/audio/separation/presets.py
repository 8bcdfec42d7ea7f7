"""Presets by name: an ordered chain of model slots, each found in the models folder by
file type and name. The chain runs in the order given (each model's output feeds the next).

- seed-recipe — the Chinese tutorial's "cleanest": an MDX-Net vocal model, then
  VR-DeEchoAggressive.
- dereverb-deecho — upstream's advice: onnx_dereverb_By_FoxJoy, then a DeEcho model.
- roformer-vocals — a BS-/Mel-Band-RoFormer vocal checkpoint (.ckpt + .yaml).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.events import StepError


@dataclass(frozen=True)
class Slot:
    what: str  # said in the error when nothing matches
    exts: tuple[str, ...]
    include: tuple[str, ...]  # any of these in the lower-cased path below the folder
    exclude: tuple[str, ...] = ()
    fetch: str = ""  # a `gsv models get` name that provides it


@dataclass(frozen=True)
class Preset:
    title: str
    slots: tuple[Slot, ...]


_DEREVERB = ("dereverb", "foxjoy")
PRESETS: dict[str, Preset] = {
    "seed-recipe": Preset("MDX-Net, then DeEcho-Aggressive", (
        Slot("an MDX-Net vocal model (.onnx)", (".onnx",), ("",),
             exclude=_DEREVERB + ("echo", "inst")),
        Slot("VR-DeEchoAggressive.pth", (".pth",), ("deechoaggressive", "de-echo-aggressive"),
             fetch="uvr5-deecho-aggressive"))),
    "dereverb-deecho": Preset("onnx_dereverb, then DeEcho", (
        Slot("onnx_dereverb_By_FoxJoy", (".onnx",), _DEREVERB, fetch="uvr5-onnx-dereverb"),
        Slot("a de-echo model", (".pth", ".onnx"), ("deecho", "de-echo", "echo"),
             fetch="uvr5-deecho-aggressive"))),
    "roformer-vocals": Preset("a RoFormer vocal model", (
        Slot("a BS-/Mel-Band-RoFormer .ckpt with its .yaml", (".ckpt",), ("roformer",),
             exclude=("inst",)),)),
}
CHOICES = ("",) + tuple(PRESETS)


def model_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and p.suffix.lower() in (".onnx", ".pth", ".ckpt"))


def resolve(name: str, folder: Path) -> list[Path]:
    """The preset's models in chain order; a missing one is a sentence naming it."""
    preset = PRESETS[name]
    found = model_files(folder)
    chain: list[Path] = []
    for slot in preset.slots:
        def fits(p: Path) -> bool:
            rel = str(p.relative_to(folder)).lower()
            return (p.suffix.lower() in slot.exts and p not in chain
                    and any(k in rel for k in slot.include)
                    and not any(k in rel for k in slot.exclude))
        match = [p for p in found if fits(p)]
        if not match:
            get = f" (gsv models get {slot.fetch})" if slot.fetch else ""
            raise StepError(f"Preset {name} ({preset.title}) needs {slot.what} in {folder}",
                            f"Put it there{get}, or name models yourself.")
        chain.append(match[0])
    return chain
