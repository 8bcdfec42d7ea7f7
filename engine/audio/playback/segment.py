"""The bytes a backend plays: a segment of a clip, its speed folded into the wav header.

Writing the header's sample rate as ``rate × speed`` plays the clip faster or slower (pitch
moves with it, like tape) with every player, with no resampling and no player options.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def write_segment(src: Path, out: Path, *, start: float = 0.0, end: float | None = None,
                  speed: float = 1.0) -> float:
    """Write ``src[start:end]`` to ``out``; return the segment's length in clip seconds."""
    info = sf.info(str(src))
    sr = info.samplerate
    a = max(0, int(start * sr))
    b = info.frames if end is None else min(info.frames, int(end * sr))
    data, _ = sf.read(str(src), start=a, stop=max(a, b), dtype="int16", always_2d=True)
    if len(data) == 0:
        data = np.zeros((1, info.channels), dtype=np.int16)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    sf.write(str(tmp), data, max(1000, int(round(sr * speed))), subtype="PCM_16", format="WAV")
    tmp.replace(out)
    return len(data) / sr
