"""Per-file import report: what a recording holds and what is wrong with it, in one pass."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from engine.audio.loudness import LoudnessMeter, db

CLIP_LEVEL = 0.999  # |x| at or above this counts as clipped
SILENT_PEAK_DBFS = -60.0  # a whole file below this is treated as silence
SHORT_S = 1.0
GUIDE_MIN_S, GUIDE_MAX_S = 60.0, 1800.0  # the tutorials' 1–30 minutes of speech


@dataclass
class FileReport:
    source: str
    name: str = ""  # the decoded copy under audio/raw ("" when nothing was written)
    status: str = "ok"  # ok | warning | skipped | error
    reason: str = ""  # one line when skipped or failed
    warnings: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    sample_rate: int = 0
    channels: int = 0
    codec: str = ""
    peak_dbfs: float | None = None
    loudness_lufs: float | None = None
    clipped_share: float = 0.0
    silence_share: float = 0.0
    gain_db: float = 0.0
    size: int = 0
    mtime_ns: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("peak_dbfs", "loudness_lufs"):  # JSON has no -inf
            if d[k] is not None and not math.isfinite(d[k]):
                d[k] = None
        return d


class Analyzer:
    """Accumulates peak, clipping, loudness and silence over streamed blocks."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.meter = LoudnessMeter(sample_rate, channels)
        self.sr = sample_rate
        self.frames = 0
        self.samples = 0
        self.peak = 0.0
        self.clipped = 0

    def add(self, block: np.ndarray) -> None:
        a = np.abs(block)
        if a.size:
            self.peak = max(self.peak, float(a.max()))
            self.clipped += int(np.count_nonzero(a >= CLIP_LEVEL))
        self.frames += block.shape[0]
        self.samples += block.size
        self.meter.add(block)

    def fill(self, rep: FileReport) -> None:
        rep.duration_s = round(self.frames / self.sr, 3)
        rep.peak_dbfs = round(db(self.peak), 2) if self.peak > 0 else float("-inf")
        lufs = self.meter.integrated()
        rep.loudness_lufs = None if lufs is None else round(lufs, 2)
        rep.clipped_share = round(self.clipped / max(1, self.samples), 6)
        rep.silence_share = round(self.meter.silence_share(), 4)


def judge(rep: FileReport) -> None:
    """Turn the numbers into the user-facing status and warnings (never refuses speech)."""
    if rep.duration_s == 0:
        rep.status, rep.reason = "error", "no audio samples could be decoded"
        return
    if rep.peak_dbfs is None or rep.peak_dbfs < SILENT_PEAK_DBFS:
        peak = "-inf" if rep.peak_dbfs is None or not math.isfinite(rep.peak_dbfs) \
            else f"{rep.peak_dbfs:.0f}"
        rep.status, rep.reason = "skipped", f"silent (peak {peak} dBFS): nothing to train on"
        return
    w = rep.warnings
    if rep.duration_s < SHORT_S:
        w.append(f"very short ({rep.duration_s:.2f} s): too short to train on by itself")
    if rep.clipped_share > 0.001:
        w.append(f"clipping on {rep.clipped_share:.2%} of samples: re-record quieter if you can")
    if rep.silence_share > 0.5:
        w.append(f"{rep.silence_share:.0%} silence")
    if rep.peak_dbfs < -30:
        w.append(f"very quiet (peak {rep.peak_dbfs:.0f} dBFS): try normalise")
    if w and rep.status == "ok":
        rep.status = "warning"


def total_guidance(total_s: float) -> str:
    """The 1–30 minute dataset guidance: a warning line, or '' when inside it."""
    if total_s < GUIDE_MIN_S:
        return (f"only {total_s / 60:.1f} min of audio imported; 1–30 min is recommended "
                "(a few minutes already gives a usable voice)")
    if total_s > GUIDE_MAX_S:
        return (f"{total_s / 60:.0f} min of audio imported; more than 30 min rarely helps "
                "and makes every later step slower")
    return ""
