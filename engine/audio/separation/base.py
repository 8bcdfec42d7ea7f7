"""The one interface every separation family exposes (VR, MDX-Net, MDXC/RoFormer).

Contract (shared by engine/audio/separation/{vr,mdx_family,mdxc,roformer}.py):
- ``load_*`` returns a Separator; loading may import torch/onnxruntime, this module does not.
- ``separate(wave, progress)``: ``wave`` is float32 [channels, samples] at ``sample_rate``
  (the caller resamples and gives 2 channels: every UVR family was trained on stereo).
  Returns ``(voice, rest)``, both float32 with the input's shape: the voice-like stem first
  (vocals / the dry voice / the main vocal), everything else second. A model that predicts
  what to remove (de-echo, dereverb, instrumental) still returns the voice first.
- ``progress(fraction)`` (0..1 of this call's wave) may be called any number of times.
- Memory: ``separate`` may hold the whole ``wave`` (and a few copies); the caller bounds it
  by feeding segments of at most ``segment.SEGMENT_S`` seconds with overlap
  (separation/segment.py), so a 2-hour file never sits in memory.
- Bad files raise engine.events.StepError(reason, hint), never a bare exception.
"""
from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

import numpy as np

ProgressFn = Callable[[float], None]


@runtime_checkable
class Separator(Protocol):
    name: str         # the model file's name, shown in logs and the manifest
    sample_rate: int  # the rate ``separate`` expects and returns (44100 for UVR models)

    def separate(self, wave: np.ndarray, progress: ProgressFn | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """float32 [channels, samples] → (voice, rest), same shape each."""
        ...
