"""What the proofreader knows about a clip besides its line: duration and ASR confidence.

ASR records (``Layout.asr_records``, JSONL written by the ASR step) are optional, and so is
every field in them; a missing or unreadable file simply means "no confidence shown".
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile as sf

_PATH_KEYS = ("clip", "wav", "path", "audio", "clip_path", "file")  # engine.asr writes "clip"


@dataclass(frozen=True)
class ClipInfo:
    duration: float | None = None  # None: the audio file is missing or unreadable
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    language: str | None = None

    @property
    def confidence(self) -> float | None:
        """0..1 (exp of the mean token log-probability), None without an ASR record."""
        return None if self.avg_logprob is None else math.exp(min(self.avg_logprob, 0.0))

    @property
    def low_confidence(self) -> bool:
        # Whisper's own fallback thresholds: these transcripts most often need fixing.
        return ((self.avg_logprob is not None and self.avg_logprob < -1.0)
                or (self.no_speech_prob is not None and self.no_speech_prob > 0.6)
                or (self.compression_ratio is not None and self.compression_ratio > 2.4))


def _num(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def load_asr_records(path: Path | None, base: Path | None = None) -> dict[str, dict[str, Any]]:
    """Records keyed by the clip path as written, by its absolute path (the ASR step stores
    paths relative to the project root ``base`` but writes absolute ones in the .list), and
    by its file name (lists often differ in folder prefix from what the ASR step saw)."""
    out: dict[str, dict[str, Any]] = {}
    if path is None:
        return out
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if not isinstance(rec, dict):
            continue
        key = next((rec[k] for k in _PATH_KEYS if isinstance(rec.get(k), str)), None)
        if key:
            out[key] = rec
            if base is not None:
                out.setdefault(str((base / key).resolve()), rec)
            out.setdefault(Path(key).name, rec)
    return out


def audio_duration(path: Path) -> float | None:
    try:
        i = sf.info(str(path))
    except Exception:  # missing, unreadable, not audio: shown as a flagged clip
        return None
    return i.frames / i.samplerate if i.samplerate else None


def make_info(duration: float | None, rec: dict[str, Any] | None) -> ClipInfo:
    rec = rec or {}
    lang = rec.get("language")
    return ClipInfo(duration=duration, avg_logprob=_num(rec.get("avg_logprob")),
                    no_speech_prob=_num(rec.get("no_speech_prob")),
                    compression_ratio=_num(rec.get("compression_ratio")),
                    language=lang if isinstance(lang, str) else None)
