"""SoVITS training data read from the upstream 1A experiment folder ``logs/<slug>/``:
``2-name2text.txt`` (phones), ``4-cnhubert/<name>.pt`` (1, 768, T) HuBERT features and
``5-wav32k/<name>`` 16-bit 32 kHz wavs, and for v2Pro/v2ProPlus ``7-sv_cn/<name>.pt`` speaker
embeddings [1, 20480]. Keys are the names present in all of them; clips outside 0.6–54 s are
skipped; small sets are repeated so an epoch has enough steps (as upstream)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.events import StepError
from engine.models.sovits.audio import spectrogram
from engine.models.sovits.config import HOP, SAMPLE_RATE, SV_DIM
from engine.train.distributed import SINGLE, Dist, share

# Spectrogram-frame bucket boundaries (upstream's): clips outside [32, 1900) frames are dropped.
BUCKETS = [32, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 1400, 1500, 1600,
           1700, 1800, 1900]
MIN_SECONDS, MAX_SECONDS = 0.6, 54.0


@dataclass
class Clip:
    name: str
    phone_ids: list[int]
    ssl_path: Path
    wav_path: Path
    frames: int  # spectrogram frames (wav samples // hop)
    sv_path: Path | None = None  # v2Pro/v2ProPlus: 7-sv_cn/<name>.pt


@dataclass
class Item:
    ssl: torch.Tensor  # (768, T)
    spec: torch.Tensor  # (1025, T)
    wav: torch.Tensor  # (T * hop,)
    text: torch.Tensor  # (P,)
    sv: torch.Tensor | None = None  # (20480,) for v2Pro/v2ProPlus


def _read_name2text(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0] and parts[1].strip():
            out[parts[0]] = parts[1].split(" ")
    return out


def scan_experiment(exp_dir: Path, version: str) -> tuple[list[Clip], list[str]]:
    """The usable clips and a list of human-readable reasons for the skipped ones."""
    from engine.models.sovits.config import is_pro
    from engine.text.symbols import cleaned_text_to_sequence

    text_file, ssl_dir, wav_dir = exp_dir / "2-name2text.txt", exp_dir / "4-cnhubert", exp_dir / "5-wav32k"
    sv_dir = exp_dir / "7-sv_cn" if is_pro(version) else None
    inputs = "2-name2text.txt, 4-cnhubert/, 5-wav32k/" + (", 7-sv_cn/" if sv_dir else "")
    for p in (text_file, ssl_dir, wav_dir, *([sv_dir] if sv_dir else [])):
        if not p.exists():
            raise StepError(f"The training data is incomplete: {p} is missing.",
                            f"Run the Format step (1A) first; for {version} it writes {inputs}.")
    phones = _read_name2text(text_file)
    ssl_names = {p.name[:-3] for p in ssl_dir.glob("*.pt")}
    wav_names = {p.name for p in wav_dir.iterdir() if p.is_file()}
    # upstream keeps only the clips present in every input (a Pro clip without its embedding
    # cannot be trained on)
    name_sets = [set(phones), ssl_names, wav_names]
    if sv_dir:
        name_sets.append({p.name[:-3] for p in sv_dir.glob("*.pt")})
    common = set.intersection(*name_sets)
    clips, skipped = [], []
    for name in sorted(common):
        wav_path = wav_dir / name
        seconds = max(wav_path.stat().st_size - 44, 0) / (SAMPLE_RATE * 2)
        if not MIN_SECONDS < seconds < MAX_SECONDS:
            skipped.append(f"{name}: {seconds:.2f} s is outside {MIN_SECONDS}–{MAX_SECONDS} s")
            continue
        frames = int(seconds * SAMPLE_RATE) // HOP
        if not BUCKETS[0] <= frames < BUCKETS[-1]:
            skipped.append(f"{name}: {frames} frames is outside {BUCKETS[0]}–{BUCKETS[-1]}")
            continue
        try:
            ids = cleaned_text_to_sequence(phones[name], version)
        except ValueError as exc:
            skipped.append(f"{name}: {exc}")
            continue
        clips.append(Clip(name, ids, ssl_dir / f"{name}.pt", wav_path, frames,
                          sv_dir / f"{name}.pt" if sv_dir else None))
    missing = len(set.union(*name_sets)) - len(common)
    if missing:
        skipped.append(f"{missing} names are missing from one of {inputs}")
    if not clips:
        raise StepError(f"No usable training clips in {exp_dir}.",
                        "Re-run the Format step; clips must be 0.6–54 s and present in "
                        f"{inputs}.")
    return clips, skipped


class ClipDataset:
    """Loads and aligns one clip; spectrograms are cached in memory (small datasets)."""

    def __init__(self, clips: list[Clip]) -> None:
        self.clips = clips
        self._spec_cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self.clips)

    def _audio(self, clip: Clip) -> tuple[torch.Tensor, torch.Tensor]:
        if clip.name not in self._spec_cache:
            import soundfile as sf

            data, sr = sf.read(str(clip.wav_path), dtype="int16", always_2d=True)
            if sr != SAMPLE_RATE:
                raise StepError(f"{clip.wav_path} is {sr} Hz, not {SAMPLE_RATE}.",
                                "Re-run the Format step to rewrite 5-wav32k/.")
            wav = torch.from_numpy(data[:, 0].astype(np.float32) / 32768.0)
            spec = spectrogram(wav.unsqueeze(0))[0]
            self._spec_cache[clip.name] = (wav, spec)
        return self._spec_cache[clip.name]

    def __getitem__(self, i: int) -> Item:
        clip = self.clips[i]
        wav, spec = self._audio(clip)
        ssl = torch.load(clip.ssl_path, map_location="cpu", weights_only=True).float()
        ssl = ssl.reshape(ssl.shape[-2], ssl.shape[-1])
        t = spec.shape[-1]
        # HuBERT usually yields one frame fewer than the spectrogram: repeat the last frame.
        if ssl.shape[-1] < t:
            ssl = torch.cat([ssl, ssl[:, -1:].expand(-1, t - ssl.shape[-1])], dim=1)
        ssl = ssl[:, :t]
        sv = None
        if clip.sv_path is not None:
            sv = self._sv(clip.sv_path)
        return Item(ssl, spec, wav[: t * HOP], torch.tensor(clip.phone_ids, dtype=torch.long), sv)

    @staticmethod
    def _sv(path: Path) -> torch.Tensor:
        try:
            emb = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 -- truncated, not a zip, unpickling refused
            raise StepError(f"The speaker embedding {path} cannot be read ({type(exc).__name__}).",
                            "Re-run the Format step; it rewrites 7-sv_cn/ files that are "
                            "missing or damaged.") from None
        if not isinstance(emb, torch.Tensor) or emb.numel() != SV_DIM:
            raise StepError(f"{path} is not a speaker embedding of {SV_DIM} values.",
                            "Re-run the Format step for this v2Pro/v2ProPlus project.")
        return emb.reshape(SV_DIM).float()  # fp16 files (GPU formatting) train as float32


def epoch_batches(clips: list[Clip], batch_size: int, epoch: int, seed: int,
                  min_items: int = 100, dist: Dist = SINGLE) -> list[list[int]]:
    """Bucketed batches for one epoch, deterministic in (seed, epoch) so a resumed run sees
    the same order. Sets under ``min_items`` clips are repeated max(2, min_items // n) times.
    Under several ranks each gets its share of every bucket (``distributed.share``); the
    shuffles run identically on all ranks, so the k-th batch of every rank comes from the
    same bucket."""
    n = len(clips)
    reps = max(2, min_items // n) if (min_items and n < min_items) else 1
    rng = random.Random(seed * 100_003 + epoch)
    buckets: dict[int, list[int]] = {}
    for i in list(range(n)) * reps:
        b = next(j for j in range(len(BUCKETS) - 1) if clips[i].frames < BUCKETS[j + 1])
        buckets.setdefault(b, []).append(i)
    batches = []
    for b in sorted(buckets):
        idx = buckets[b]
        rng.shuffle(idx)
        idx = share(idx, dist)
        batches += [idx[k: k + batch_size] for k in range(0, len(idx), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(items: list[Item], min_frames: int) -> dict[str, torch.Tensor]:
    """Pad a batch (longest first) to an even frame count of at least ``min_frames``."""
    items = sorted(items, key=lambda it: it.spec.shape[-1], reverse=True)
    t_max = max(items[0].spec.shape[-1], min_frames)
    t_max += t_max % 2
    p_max = max(it.text.shape[0] for it in items)
    b = len(items)
    ssl = torch.zeros(b, items[0].ssl.shape[0], t_max)
    spec = torch.zeros(b, items[0].spec.shape[0], t_max)
    wav = torch.zeros(b, 1, t_max * HOP)
    text = torch.zeros(b, p_max, dtype=torch.long)
    spec_len = torch.zeros(b, dtype=torch.long)
    text_len = torch.zeros(b, dtype=torch.long)
    for i, it in enumerate(items):
        t = it.spec.shape[-1]
        ssl[i, :, :t] = it.ssl
        spec[i, :, :t] = it.spec
        wav[i, 0, : it.wav.shape[0]] = it.wav
        text[i, : it.text.shape[0]] = it.text
        spec_len[i], text_len[i] = t, it.text.shape[0]
    out = {"ssl": ssl, "spec": spec, "wav": wav, "text": text, "spec_lengths": spec_len,
           "text_lengths": text_len}
    if items[0].sv is not None:  # v2Pro/v2ProPlus: [B, 20480] float32, in the sorted order
        out["sv"] = torch.stack([it.sv for it in items])
    return out
