"""The per-clip ASR record (``asr/records.jsonl``), which is also the result cache.

A record is reused when the clip's audio hash and the run's settings key both match, so a
re-run only transcribes new or changed clips. The proofreader reads the same file for its
filters (low log-probability, high no-speech probability, odd compression ratio).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from engine.atomic import atomic_write_text


@dataclass
class AsrRecord:
    clip: str  # path relative to the project root (absolute when outside it)
    sha256: str  # of the clip file's bytes
    key: str  # settings key of the run that produced it (see settings_key)
    text: str = ""
    language: str = ""  # detected (or fixed) language code, lower-case
    language_prob: float | None = None
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    duration_s: float = 0.0
    speech_s: float | None = None  # after VAD; 0: VAD found no speech
    backend: str = ""
    model: str = ""
    packed: bool = False  # shared a 30 s window with other clips (window-level no_speech_prob)
    error: str | None = None  # decode/transcribe failure: the clip is left out of the .list

    @property
    def ok(self) -> bool:
        return self.error is None


def settings_key(**settings: object) -> str:
    """A short stable hash of everything that changes a transcript."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def read_records(path: Path) -> dict[str, AsrRecord]:
    """Records by clip; unreadable lines (a crash mid-write, an older schema) are dropped."""
    out: dict[str, AsrRecord] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return out
    names = {f.name for f in dataclasses.fields(AsrRecord)}
    for line in lines:
        try:
            data = json.loads(line)
            rec = AsrRecord(**{k: v for k, v in data.items() if k in names})
        except (ValueError, TypeError):
            continue
        out[rec.clip] = rec
    return out


def write_records(path: Path, records: list[AsrRecord]) -> None:
    atomic_write_text(path, "".join(
        json.dumps(dataclasses.asdict(r), ensure_ascii=False) + "\n" for r in records))
