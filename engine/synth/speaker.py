"""The reference clip's speaker embedding for v2Pro/v2ProPlus voices (upstream's
``compute_embedding3`` on the reference at 32 kHz resampled to 16 kHz), computed once per
reference and speaker model.

Two caches, because the embedding costs seconds of CPU per clip (bench/format_sv.py):
in memory for a process that keeps the voice loaded (serve, the TUI), and one small file per
reference under ``<project>/runs/sv-cache/`` for the next ``gsv synthesize``. The key is the
sha256 of the reference file's bytes plus the speaker model's file name and size, so an
edited clip or another model is never answered from the cache. A cache file that cannot be
read is recomputed and replaced; it only ever holds a copy of what can be recomputed.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Generator

import numpy as np
import torch

from engine.events import Event
from engine.models.sovits.config import SV_DIM

CACHE_DIR = Path("runs") / "sv-cache"
STEP = "synthesize"


def _file_key(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ReferenceEmbeddings:
    """``embed(path, wav32k)`` -> [1, 20480] float32 on the CPU for one reference file."""

    def __init__(self, encoder, model_path: Path, cache_root: Path | None = None) -> None:
        self.encoder = encoder
        st = model_path.stat()
        self.model_key = hashlib.sha256(f"{model_path.name}:{st.st_size}".encode()).hexdigest()[:16]
        self.folder = Path(cache_root) / CACHE_DIR if cache_root else None
        self.memory: dict[str, torch.Tensor] = {}
        self.computed = 0  # embeddings really computed (tests and logs)

    def _cache_file(self, key: str) -> Path | None:
        return self.folder / f"{key}.pt" if self.folder else None

    def embed(self, path: str | Path, wav32k: np.ndarray) -> torch.Tensor:
        key = f"{_file_key(Path(path))[:32]}-{self.model_key}"
        if key in self.memory:
            return self.memory[key]
        emb = self._read(key)
        if emb is None:
            emb = self._compute(wav32k)
            self.computed += 1
            self._write(key, emb)
        self.memory[key] = emb
        return emb

    def _compute(self, wav32k: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(wav32k, dtype=np.float32)).flatten()
        peak = float(x.abs().max()) if x.numel() else 0.0
        if peak > 1:  # the same scaling as the reference spectrogram (upstream's _get_ref_spec)
            x = x / min(2.0, peak)
        return self.encoder.embed_32k(x.unsqueeze(0)).float().reshape(1, -1)

    def _read(self, key: str) -> torch.Tensor | None:
        f = self._cache_file(key)
        if f is None or not f.is_file():
            return None
        try:
            emb = torch.load(f, map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001 -- a damaged copy: recompute it
            return None
        ok = isinstance(emb, torch.Tensor) and emb.dtype == torch.float32 \
            and tuple(emb.shape) == (1, SV_DIM)
        return emb if ok else None

    def _write(self, key: str, emb: torch.Tensor) -> None:
        f = self._cache_file(key)
        if f is None:
            return
        from engine.atomic import atomic_write_bytes

        buf = io.BytesIO()
        torch.save(emb.contiguous().clone(), buf)
        try:
            f.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(f, buf.getvalue())
        except OSError:
            pass  # a full disk or read-only project only costs the recomputation next time


def load_reference_embeddings(device: str, cache_root: Path | None, sv_path: str = "",
                              allow_download: bool = True
                              ) -> Generator[Event, None, ReferenceEmbeddings]:
    """The speaker model (found or fetched like every model) wrapped with the caches."""
    from engine.dataset.format.sv import locate_model
    from engine.events import Log
    from engine.models.sv import SpeakerEncoder

    path = yield from locate_model(sv_path, allow_download, STEP)
    encoder = SpeakerEncoder(path, device=str(device))
    yield Log(f"Speaker model: {path.name} (v2Pro timbre of each reference)")
    return ReferenceEmbeddings(encoder, Path(path), cache_root)
