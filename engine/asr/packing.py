"""Pack short clips into 30-second Whisper windows and give the words back to their clips.

Whisper's encoder always sees 30 s: a 4 s clip pays for 26 s of padding. Sliced datasets
are mostly 3–10 s clips, so packing several clips (with a silent gap between them) into one
window divides the encoder work, which dominates on CPU. Word timestamps (cross-attention
alignment) then say which clip each word came from: a word belongs to the clip whose span
holds the middle of the word, or to the nearest one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.asr.backend import SAMPLE_RATE


@dataclass
class Span:
    clip: int  # index into the clips being packed
    start_s: float  # where this clip's audio sits inside the window
    end_s: float


@dataclass
class Window:
    audio: np.ndarray
    spans: list[Span] = field(default_factory=list)


def pack(pieces: list[tuple[int, np.ndarray]], *, max_s: float = 28.0, gap_s: float = 1.0,
         pack_clips: bool = True) -> list[Window]:
    """Greedy in-order packing of (clip index, audio ≤ max_s) pieces into windows.

    With ``pack_clips`` False every piece gets its own window (plain cross-clip batching).
    """
    sr = SAMPLE_RATE
    gap = np.zeros(int(gap_s * sr), np.float32)
    windows: list[Window] = []
    parts: list[np.ndarray] = []
    spans: list[Span] = []
    pos = 0

    def flush() -> None:
        nonlocal parts, spans, pos
        if parts:
            windows.append(Window(np.concatenate(parts), spans))
        parts, spans, pos = [], [], 0

    for clip, audio in pieces:
        n = len(audio)
        if parts and (not pack_clips or pos + len(gap) + n > max_s * sr):
            flush()
        if parts:
            parts.append(gap)
            pos += len(gap)
        parts.append(audio)
        spans.append(Span(clip, pos / sr, (pos + n) / sr))
        pos += n
    flush()
    return windows


def split_long(audio: np.ndarray, max_s: float = 28.0) -> list[np.ndarray]:
    """Cut audio longer than one window into ≤ max_s pieces (rare: slicer clips are short)."""
    step = int(max_s * SAMPLE_RATE)
    return [audio[i:i + step] for i in range(0, max(len(audio), 1), step)]


def assign_words(spans: list[Span], words: list[dict]) -> dict[int, list[dict]]:
    """Words (dicts with start, end in window seconds) grouped by the clip they fall in."""
    out: dict[int, list[dict]] = {}
    if not spans:
        return out
    for w in words:
        mid = (float(w["start"]) + float(w["end"])) / 2
        best = min(spans, key=lambda s: 0.0 if s.start_s <= mid <= s.end_s
                   else min(abs(mid - s.start_s), abs(mid - s.end_s)))
        out.setdefault(best.clip, []).append(w)
    return out


_CLOSING = set("\"'.。,，!！?？:：”)]}、;；…")


def attach_punctuation(words: list[dict]) -> list[dict]:
    """Whisper often emits a sentence's final '.' as a word of its own, timed at the start of
    the next clip; glue such punctuation-only words to the word before them."""
    out: list[dict] = []
    for w in words:
        text = str(w["word"])
        if out and text.strip() and all(c in _CLOSING for c in text.strip()):
            prev = dict(out[-1])
            prev["word"] = str(prev["word"]) + text.strip()
            prev["ntok"] = prev.get("ntok", 0) + w.get("ntok", 0)  # token count and
            prev["logp"] = prev.get("logp", 0.0) + w.get("logp", 0.0)  # summed log-prob
            out[-1] = prev
        else:
            out.append(dict(w))
    return out
