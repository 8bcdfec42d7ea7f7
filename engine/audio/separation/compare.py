"""Before/after for the Clean pane: a few clips (the loudest stretch of each cleaned file)
and an estimated SNR of the recording before and after.

No clean reference exists for a user's recording, so the SNR is blind: frame energies over
20 ms, the level of the loud frames (95th percentile) over the floor of the quiet ones (10th
percentile). It is the number a listener hears as "how far the voice stands above the
hiss"; a separation that removes noise between words raises it. Streams both files."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FRAME_S = 0.02


@dataclass(frozen=True)
class ClipPair:
    name: str
    before: str  # project-relative paths
    after: str
    start: float  # seconds, the same stretch in both files
    end: float
    snr_before: float
    snr_after: float

    @property
    def gain(self) -> float:
        return self.snr_after - self.snr_before


def frame_energy(path: Path) -> np.ndarray:
    from engine.audio.decode import iter_blocks, probe

    info = probe(path)
    hop = max(1, int(FRAME_S * info.sample_rate))
    out, rest = [], np.zeros(0, np.float32)
    for block in iter_blocks(path, info):
        x = np.concatenate([rest, block.mean(axis=1)])
        n = x.shape[0] // hop * hop
        out.append((x[:n].reshape(-1, hop) ** 2).mean(axis=1))
        rest = x[n:]
    return np.concatenate(out) if out else np.zeros(0)


def snr_db(energy: np.ndarray) -> float:
    if energy.size < 10:
        return 0.0
    loud, floor = np.percentile(energy, 95), np.percentile(energy, 10)
    return float(10 * np.log10(max(loud, 1e-12) / max(floor, 1e-12)))


def loudest(energy: np.ndarray, clip_s: float) -> tuple[float, float]:
    n = max(1, int(clip_s / FRAME_S))
    if energy.size <= n:
        return 0.0, energy.size * FRAME_S
    sums = np.convolve(energy, np.ones(n), mode="valid")
    k = int(np.argmax(sums))
    return k * FRAME_S, (k + n) * FRAME_S


def compare(project_root: Path, limit: int = 3, clip_s: float = 6.0) -> list[ClipPair]:
    """Pairs for up to ``limit`` files of audio/clean (its manifest names each source)."""
    from engine.layout import Layout

    layout = Layout(Path(project_root), "")
    try:
        files = json.loads((layout.clean_dir / "manifest.json").read_text("utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return []
    pairs = []
    for name in sorted(files)[:limit]:
        raw, clean = layout.abs(files[name]["input"]), layout.clean_dir / name
        if not (raw.is_file() and clean.is_file()):
            continue
        e_raw, e_clean = frame_energy(raw), frame_energy(clean)
        start, end = loudest(e_raw, clip_s)
        pairs.append(ClipPair(name, layout.rel(raw), layout.rel(clean), start, end,
                              snr_db(e_raw), snr_db(e_clean)))
    return pairs
