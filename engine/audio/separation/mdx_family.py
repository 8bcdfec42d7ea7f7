"""MDX-Net ONNX models (engine/audio/mdx.py) as a Separator: the same windows, one interface.
``stream`` is kept: MDX-Net streams itself with fixed windows, so segment.stream uses it."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from engine.audio.separation.base import ProgressFn


class MdxSeparator:
    def __init__(self, path: Path, *, n_fft: int = 0, hop: int = 1024, output: str = "auto",
                 threads: int = 0) -> None:
        from engine.audio.mdx import MDX_SR, MdxModel

        self.model = MdxModel(path, n_fft=n_fft, hop=hop, output=output, threads=threads)
        self.name = self.model.name
        self.sample_rate = MDX_SR

    def describe(self) -> str:
        s = self.model.spec
        return (f"{self.name}: MDX-Net ONNX, n_fft {s.n_fft}, "
                f"{'removes' if s.residual else 'keeps'} its target")

    def stream(self, blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        return self.model.stream(blocks)

    def separate(self, wave: np.ndarray, progress: ProgressFn | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        x = np.ascontiguousarray(wave.T, dtype=np.float32)
        voice = np.concatenate(list(self.model.stream(iter([x])))).T[:, :wave.shape[1]]
        if progress:
            progress(1.0)
        return voice.astype(np.float32), (wave - voice).astype(np.float32)
