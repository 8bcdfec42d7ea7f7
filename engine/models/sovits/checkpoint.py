"""Reading and writing SoVITS weight files in upstream's formats, without running pickled code.

Kinds read: small exports ``{weight, config, info}`` (fp16, no ``enc_q``), pretrained bases
``{weight[, config]}``, training checkpoints ``G_*.pth`` ``{model, iteration, optimizer,
learning_rate}`` (ours add ``gsv`` metadata). Everything goes through ``torch.load(
weights_only=True)``; upstream's pickled ``utils.HParams`` config is mapped to a dict.

Versions (spec upstream-v2pro §8): v2Pro / v2ProPlus exports carry ASCII ``05`` / ``06`` over
the zip's ``PK``; the official bases are known by the md5 of their first 8 KiB; anything else
is told apart by its keys and shapes (``sv_emb.*`` = Pro, a kernel-20 first upsampler =
ProPlus, 322 phoneme rows = v1). Unlike upstream we never trust the file size, so a Pro file
re-saved with ``PK`` is still recognised; a header that disagrees with the weights is refused.
"""
from __future__ import annotations

import hashlib
import io
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.atomic import atomic_write_bytes
from engine.events import StepError
from engine.models.sovits.config import (MODEL_VERSIONS, SYMBOLS_PER_VERSION, SovitsConfig,
                                         default_config, is_pro)
from engine.models.sovits.hparams import upstream_hparams

# md5 of the first 8192 bytes of upstream's official pretrained generators.
PRETRAINED_MD5 = {
    "dc3c97e17592963677a4a1681f30c653": ("s2G488k (v1 base)", "v1"),
    "6642b37f3dbb1f76882b69937c95a5f3": ("s2G2333k (v2 base)", "v2"),
    "43797be674a37c1c83ee81081941ed0f": ("s2Gv3 (v3 base)", "v3"),
    "4f26b9476d0c5033e04162c486074374": ("s2Gv4 (v4 base)", "v4"),
    "c7e9fce2223f3db685cdfa1e6368728a": ("s2Gv2Pro (v2Pro base)", "v2Pro"),
    "66b313e39455b57ab1b0bc0b239c9d0a": ("s2Gv2ProPlus (v2ProPlus base)", "v2ProPlus"),
}
# Two-byte headers upstream reads in place of the zip magic "PK" (process_ckpt head2version).
HEADER_VERSIONS = {b"00": "v1", b"01": "v2", b"02": "v3", b"03": "v3 LoRA", b"04": "v4 LoRA",
                   b"05": "v2Pro", b"06": "v2ProPlus"}
# What our export writes: upstream's savee heads Pro files only; v1/v2 exports stay "PK".
EXPORT_HEADERS = {"v2Pro": b"05", "v2ProPlus": b"06"}
SUPPORTED = MODEL_VERSIONS
EMBED_KEY = "enc_p.text_embedding.weight"
FIRST_UPSAMPLER = "dec.ups.0.weight_v"
PROPLUS_FIRST_KERNEL = 20  # s2v2ProPlus.json upsample_kernel_sizes[0]; every other version 16


class SovitsFileError(StepError):
    """A file that is not a SoVITS checkpoint we can use, with a sentence saying why."""


class _HParams(dict):
    """Stand-in for upstream's ``utils.HParams``: the pickled attribute dict becomes items."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.update(state)


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _torch_load(data: bytes, name: str) -> Any:
    buf = io.BytesIO(data)
    try:
        with torch.serialization.safe_globals([(_HParams, "utils.HParams")]):
            return torch.load(buf, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling refused or not a torch file at all
        raise SovitsFileError(
            f"{name} is not a SoVITS weights file torch can read safely ({type(exc).__name__}).",
            "Pick a .pth exported by SoVITS training (SoVITS_weights*/<name>_e<E>_s<S>.pth) or an "
            "official s2G base model.") from None


@dataclass
class SovitsFile:
    path: Path
    kind: str  # "export" | "pretrained" | "train"
    version: str  # one of MODEL_VERSIONS
    config: SovitsConfig
    weights: dict[str, torch.Tensor]
    hparams: dict[str, Any] = field(default_factory=dict)  # upstream config block, plain dict
    info: str = ""
    base_name: str = ""  # official pretrained file it is, by md5
    extra: dict[str, Any] = field(default_factory=dict)  # the rest of a training checkpoint


def upstream_version_guess(path: Path | str) -> tuple[str, bool]:
    """Upstream's file-level guess (md5 table, header bytes, size) -> (model version, is_lora).
    Loaders then override v1/v2 from the text-embedding rows; we do the same."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(8192)
    md5 = hashlib.md5(head).hexdigest()
    if md5 in PRETRAINED_MD5:
        return PRETRAINED_MD5[md5][1], False
    magic = head[:2]
    if magic != b"PK":
        v = HEADER_VERSIONS.get(magic, "unknown")
        return v.replace(" LoRA", ""), "LoRA" in v
    size = os.path.getsize(path)
    if size < 82978 * 1024:
        return "v1", False
    return ("v2", False) if size < 700 * 1024 * 1024 else ("v3", False)


def weights_version(weights: dict[str, torch.Tensor]) -> str:
    """The model version the tensors themselves say (keys and shapes, no file metadata)."""
    if "sv_emb.weight" in weights:
        up = weights.get(FIRST_UPSAMPLER)
        plus = up is not None and up.shape[-1] == PROPLUS_FIRST_KERNEL
        return "v2ProPlus" if plus else "v2Pro"
    return "v1" if weights[EMBED_KEY].shape[0] == SYMBOLS_PER_VERSION["v1"] else "v2"


def mismatch_hint(version: str, expected: str) -> str:
    """What to do with a ``version`` file in an ``expected`` project."""
    if is_pro(version) or is_pro(expected):
        return (f"Pick a {expected} SoVITS model (SoVITS_weights_{expected}/…), or create a "
                f"{version} project for this one (gsv new NAME --version {version}): a Pro model "
                "also needs the reference voice's speaker embedding, so the two do not mix.")
    return f"Pick a {expected} model, or change the project's model version."


def read_sovits_file(path: Path | str, expect_version: str | None = None) -> SovitsFile:
    """Open any SoVITS generator file (v1, v2, v2Pro, v2ProPlus); refuse others (GPT weights,
    discriminators, v3/v4, LoRA, or a version other than ``expect_version``) with a sentence."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise SovitsFileError(f"{path} does not exist.", "Check the path of the SoVITS weights.")
    data = path.read_bytes()
    base, base_version = PRETRAINED_MD5.get(hashlib.md5(data[:8192]).hexdigest(), ("", ""))
    magic = data[:2]
    header_version = ""
    if magic != b"PK":
        if magic not in HEADER_VERSIONS:
            raise SovitsFileError(f"{name} is not a torch checkpoint (no zip header).",
                                  "Pick a .pth file written by SoVITS training or export.")
        header_version = HEADER_VERSIONS[magic]
        if header_version not in MODEL_VERSIONS:
            raise SovitsFileError(
                f"{name} is a SoVITS {header_version} file; gsv-tui trains and speaks with "
                f"{', '.join(MODEL_VERSIONS[:-1])} and {MODEL_VERSIONS[-1]} models only.",
                "Use a v2ProPlus, v2Pro or v2 SoVITS model, or upstream GPT-SoVITS for this one.")
        data = b"PK" + data[2:]  # the rest is a plain torch zip (upstream's load_sovits_new)
    obj = _torch_load(data, name)
    if not isinstance(obj, dict):
        raise SovitsFileError(f"{name} holds a {type(obj).__name__}, not a checkpoint dict.",
                              "Pick a SoVITS .pth file.")
    if "weight" in obj:
        weights, kind = obj["weight"], ("export" if "info" in obj else "pretrained")
    elif "model" in obj:
        weights, kind = obj["model"], "train"
    elif "state_dict" in obj:
        raise SovitsFileError(f"{name} is a Lightning training checkpoint (GPT), not SoVITS.",
                              "Choose it in the GPT slot, or pick a SoVITS .pth file.")
    else:
        raise SovitsFileError(f"{name} has no model weights (keys: {', '.join(map(str, obj))}).",
                              "Pick a SoVITS .pth file.")
    if not isinstance(weights, dict) or not weights:
        raise SovitsFileError(f"{name} has an empty or malformed weight table.",
                              "Pick another SoVITS .pth file.")
    keys = list(weights)
    if any(k.startswith("model.") for k in keys):
        raise SovitsFileError(f"{name} is GPT (text-to-semantic) weights, not SoVITS.",
                              "Choose it in the GPT slot; SoVITS files end in .pth.")
    if all(k.startswith("discriminators.") for k in keys):
        raise SovitsFileError(f"{name} is a SoVITS discriminator (D) checkpoint, which cannot "
                              "synthesize.", "Pick the matching generator file (G_*.pth / s2G*.pth).")
    if "lora_rank" in obj or any("lora_" in k for k in keys):
        raise SovitsFileError(f"{name} holds v3/v4 LoRA weights; gsv-tui uses v1/v2 models.",
                              "Use a v2 SoVITS model.")
    if EMBED_KEY not in weights:
        kind_text = "v3/v4" if any(k.startswith("cfm.") for k in keys) else "unknown"
        raise SovitsFileError(f"{name} is not a SoVITS v1/v2 generator ({kind_text} layout: no "
                              "phoneme embedding).", "Use a v2 SoVITS model.")
    version = weights_version(weights)
    if is_pro(version) and weights[EMBED_KEY].shape[0] == SYMBOLS_PER_VERSION["v1"]:
        raise SovitsFileError(f"{name} mixes a v1 phoneme table with {version} speaker layers.",
                              "Re-export it from its training run, or pick another SoVITS model.")
    for label, claimed in (("header", header_version), ("md5 (official base)", base_version)):
        if claimed and claimed != version:
            raise SovitsFileError(
                f"{name}'s {label} says SoVITS {claimed} but its weights are a {version} "
                "model's.", "The file was altered after export; re-export it from its "
                "training run, or pick another SoVITS model.")
    if expect_version and expect_version != version:
        raise SovitsFileError(
            f"{name} is a SoVITS {version} model but this project uses {expect_version}.",
            mismatch_hint(version, expect_version))
    raw_cfg = obj.get("config")
    hparams = _plain(raw_cfg) if isinstance(raw_cfg, dict) else {}
    gsv = obj.get("gsv") if isinstance(obj.get("gsv"), dict) else {}
    model_block = gsv.get("model_config") or hparams.get("model") or {}
    # A base without a config block gets the version's upstream sizes (gin 1024 for Pro).
    cfg = SovitsConfig.from_dict({**default_config(version).to_dict(), **model_block},
                                 version=version)
    info = obj.get("info") if isinstance(obj.get("info"), str) else ""
    extra = {k: v for k, v in obj.items() if k not in ("weight", "model", "config", "info")}
    return SovitsFile(path, kind, version, cfg, dict(weights), hparams, info, base, extra)


def load_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor], name: str = "") -> None:
    """Strict load, except that ``enc_q`` (training-only) may be absent."""
    own = model.state_dict()
    missing = [k for k in own if k not in weights and not k.startswith("enc_q.")]
    unexpected = [k for k in weights if k not in own]
    wrong = [k for k in weights if k in own and tuple(weights[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        detail = "; ".join(f"{label}: {', '.join(ks[:3])}{'…' if len(ks) > 3 else ''}"
                           for label, ks in (("missing", missing), ("unexpected", unexpected),
                                             ("wrong shape", wrong)) if ks)
        raise SovitsFileError(f"{name or 'The file'} does not fit the SoVITS model ({detail}).",
                              "The file's config and weights disagree; re-export it.")
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in weights.items()}, strict=False)


def build_model(f: SovitsFile, device: str | torch.device = "cpu"):
    from engine.models.sovits.synthesizer import Synthesizer

    model = Synthesizer(f.config)
    load_weights(model, f.weights, f.path.name)
    return model.to(device)


def load_sovits(path: Path | str, device: str | torch.device = "cpu",
                expect_version: str | None = None, precision: str = "fp32"):
    """THE entry point for other areas: any v1/v2/v2Pro/v2ProPlus SoVITS file (export, pretrained base,
    training G checkpoint) -> a ``Synthesizer`` in eval mode, ready for ``extract_latent`` /
    ``decode``. ``precision="bf16"`` runs the waveform generator in bfloat16 (faster on AMX
    CPUs and GPUs; ~2-3% RMS difference). Raises ``SovitsFileError`` (a StepError)."""
    model = build_model(read_sovits_file(path, expect_version), device)
    return model.prepare_inference(precision)


def export_name(slug: str, epoch: int, step: int) -> str:
    return f"{slug}_e{epoch}_s{step}.pth"


def export_sovits(model: torch.nn.Module, out_dir: Path | str, slug: str, epoch: int, step: int,
                  train: dict[str, Any] | None = None, exp_dir: str = "") -> Path:
    """Write ``<out_dir>/<slug>_e<E>_s<S>.pth`` exactly as upstream's export: a zip-format
    torch.save of OrderedDict(weight=fp16 tensors without enc_q, config=hparams, info). Pro
    files get upstream's two-byte version header over "PK" (``05`` v2Pro, ``06`` v2ProPlus):
    upstream's loaders recognise a fine-tuned Pro model by nothing else."""
    cfg: SovitsConfig = model.cfg  # type: ignore[attr-defined]
    weights = OrderedDict((k, v.detach().to("cpu").half()) for k, v in model.state_dict().items()
                          if "enc_q" not in k)
    ckpt = OrderedDict(weight=weights, config=upstream_hparams(cfg, slug, exp_dir, train),
                       info=f"{epoch}epoch_{step}iteration")
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    data = buf.getvalue()
    header = EXPORT_HEADERS.get(cfg.version)
    if header is not None:
        data = header + data[2:]
    path = Path(out_dir) / export_name(slug, epoch, step)
    atomic_write_bytes(path, data)
    return path
