"""The one dispatch by file type: which family a model file is, and its Separator.

``.onnx`` MDX-Net (engine/audio/mdx.py) · ``.pth`` VR architecture (+ its model-parameter
JSON, vr_params.py) · ``.ckpt`` with a same-name ``.yaml`` MDXC / BS-RoFormer /
Mel-Band-RoFormer (mdxc.py). Nothing heavy is imported until a model is loaded."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.audio.separation.base import Separator
from engine.events import StepError

FAMILIES = {".onnx": "mdx", ".pth": "vr", ".ckpt": "mdxc"}
LABELS = {"mdx": "MDX-Net (ONNX)", "vr": "VR architecture (.pth + params JSON)",
          "mdxc": "MDXC / RoFormer (.ckpt + .yaml)"}


@dataclass(frozen=True)
class LoadOptions:
    device: str = "auto"
    mdx: dict = field(default_factory=dict)  # n_fft, hop, output (MdxSeparator's keywords)
    vr: object = None  # a vr.VrOptions, or None for its defaults


def family_of(path: Path) -> str:
    fam = FAMILIES.get(Path(path).suffix.lower())
    if fam is None:
        raise StepError(f"{Path(path).name} is not a model file this step knows",
                        "Use an MDX-Net .onnx, a VR .pth or an MDXC/RoFormer .ckpt with "
                        "its .yaml beside it.")
    return fam


def yaml_for(ckpt: Path) -> Path:
    for cand in (ckpt.with_suffix(".yaml"), ckpt.with_suffix(".yml")):
        if cand.is_file():
            return cand
    raise StepError(f"{ckpt.name} has no configuration beside it",
                    f"Put its .yaml next to it as {ckpt.with_suffix('.yaml').name} "
                    "(UVR ships one per MDXC/RoFormer checkpoint).")


def resolve_device(device: str) -> str:
    from engine.audio.separation.vr import _device

    return _device(device)


def load_separator(path: Path, options: LoadOptions | None = None) -> Separator:
    o = options or LoadOptions()
    path = Path(path)
    fam = family_of(path)
    if fam == "mdx":
        from engine.audio.separation.mdx_family import MdxSeparator

        return MdxSeparator(path, **o.mdx)
    if fam == "vr":
        from engine.audio.separation.vr import load_vr

        return load_vr(path, o.device, o.vr)
    from engine.audio.separation.mdxc import load_mdxc

    return load_mdxc(path, yaml_for(path), resolve_device(o.device))


def describe(sep: Separator) -> str:
    own = getattr(sep, "describe", None)
    return own() if callable(own) else f"{sep.name} ({sep.sample_rate} Hz)"
