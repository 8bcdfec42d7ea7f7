"""An experiment folder as the format step leaves it before the speaker pass: 32 kHz int16
files in 5-wav32k/ and one journal record per clip."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.dataset.format import expdir


def tone(seconds: float, f0: float, seed: int) -> np.ndarray:
    """A voice-like 32 kHz int16 clip: a few harmonics and a little noise."""
    t = np.arange(int(seconds * 32000)) / 32000
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    x = x + 0.05 * np.random.default_rng(seed).standard_normal(t.size)
    return (x / np.abs(x).max() * 0.6 * 32767).astype(np.int16)


def make_exp(root: Path, clips: dict[str, np.ndarray], audio_key: str = "a1"
             ) -> tuple[expdir.ExpDir, list[expdir.ClipRecord]]:
    exp = expdir.ExpDir(root)
    exp.make()
    for name, samples in clips.items():
        sf.write(str(exp.wav32k(name)), samples, 32000, subtype="PCM_16")
    return exp, [expdir.ClipRecord(name, audio_key=f"{audio_key}:{name}") for name in clips]


def pt_layout(data: bytes) -> list[str]:
    """The zip members of a torch.save file without their top folder (upstream names it
    after a temp file, torch.save to memory 'archive')."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
    assert len({n.split("/", 1)[0] for n in names}) == 1
    return sorted(n.split("/", 1)[1] for n in names)
