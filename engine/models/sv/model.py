"""Loading upstream's speaker model file and computing the 20480-dim embeddings v2Pro and
v2ProPlus feed SoVITS (upstream's ``SV.compute_embedding3``: fbank per clip, ``forward3``).

The file (``sv/pretrained_eres2netv2w24s4ep4.ckpt``) is a plain state dict, so it is read
with ``weights_only=True`` and loaded strictly; anything else is refused with a sentence.
"""
from __future__ import annotations

from pathlib import Path

import torch

from engine.events import StepError
from engine.models.sv.eres2netv2 import ERes2NetV2
from engine.models.sv.fbank import fbank
from engine.models.sv.resample import to_16k

SV_FILE = "pretrained_eres2netv2w24s4ep4.ckpt"


class SvModelError(StepError):
    """A file that is not the ERes2NetV2 speaker model, with a sentence saying why."""


def _refuse(path: Path, why: str) -> SvModelError:
    return SvModelError(f"{path.name} is not the v2Pro speaker model ({why}).",
                        f"Put upstream's {SV_FILE} (GPT-SoVITS pretrained_models/sv/) there, "
                        "or let `gsv models` fetch it.")


def read_state(path: Path | str) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise SvModelError(f"The speaker model {path} does not exist.",
                           f"Fetch {SV_FILE} with `gsv models`, or point at its folder.")
    try:
        # mmap: the 215 MB are paged in from the file instead of copied through memory.
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # noqa: BLE001 -- unpickling refused, truncated, not a zip
        raise _refuse(path, f"torch cannot read it safely: {type(exc).__name__}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                               for v in state.values()):
        raise _refuse(path, "not a plain state dict")
    return state


class SpeakerEncoder:
    """ERes2NetV2 on ``device``, eval mode, float32 (float16 with ``half`` on a GPU, as
    upstream's half-precision formatting; the fbank stays float32 there, see embed_16k)."""

    def __init__(self, path: Path | str, device: str = "cpu", half: bool = False) -> None:
        path = Path(path)
        state = read_state(path)
        with torch.device("meta"):
            model = ERes2NetV2()
        want = model.state_dict()
        missing = [k for k in want if k not in state]
        extra = [k for k in state if k not in want]
        if missing or extra:
            first = (missing or extra)[0]
            raise _refuse(path, f"{len(missing)} tensors missing, {len(extra)} unexpected, "
                                f"e.g. {first}")
        bad = [k for k, v in want.items() if tuple(state[k].shape) != tuple(v.shape)]
        if bad:
            raise _refuse(path, f"{bad[0]} has shape {list(state[bad[0]].shape)}, "
                                f"expected {list(want[bad[0]].shape)}")
        # The hosted file's dtype is not known (spec §3.1): run in float32 whatever it holds.
        state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
        model.load_state_dict(state, strict=True, assign=True)
        self.dtype = torch.float16 if half and device != "cpu" else torch.float32
        self.model = model.to(device=device, dtype=self.dtype).eval()
        self.device = device

    @torch.no_grad()
    def embed_16k(self, wav16: torch.Tensor) -> torch.Tensor:
        """[B, N] (or [N]) float audio at 16 kHz in [-1, 1] -> [B, 20480] on the CPU, in the
        model's dtype. Rows must be equal-length clips: a padded row would average its
        padding into the embedding (upstream never pads either)."""
        # Upstream casts the audio to fp16 before its fbank on a half GPU, where a loud
        # frame's power can pass fp16's 65504; the features are computed in float32 here.
        feats = fbank(wav16.to(self.device))
        return self.model(feats.to(self.dtype)).cpu()

    def embed_32k(self, wav32k: torch.Tensor) -> torch.Tensor:
        """The 1Ab and inference path: 32 kHz audio, resampled as upstream does."""
        return self.embed_16k(to_16k(wav32k.float()))
