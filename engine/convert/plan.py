"""The voice changer's arithmetic, with no models: which sources, where a long source is
cut, how a given text is shared among the pieces, and how converted pieces go back on the
source's timeline (each at its own start, the gaps between them silent and as long as in
the source, so the result keeps the source's timing)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.events import StepError

SR = 32000  # SoVITS's rate; sources are decoded to it
MIN_PIECE_S = 0.5  # the slicer never leaves a piece shorter than this when it must cut
TOO_SHORT_S = 0.1  # HuBERT needs some audio; shorter pieces stay silent


@dataclass(frozen=True)
class Span:
    start: int  # samples at SR in the source
    end: int

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / SR


def find_sources(sources: list[str], base: Path) -> list[Path]:
    """The audio files named, or inside the folders named (one level, sorted). Relative
    names are taken from ``base`` (the project). Sources are only ever read."""
    from engine.audio.decode import AUDIO_EXTS

    found: list[Path] = []
    missing: list[str] = []
    for s in sources:
        p = Path(s).expanduser()
        p = p if p.is_absolute() else base / p
        if p.is_file():
            found.append(p)
        elif p.is_dir():
            found += sorted(f for f in p.iterdir()
                            if f.is_file() and f.suffix.lower() in AUDIO_EXTS
                            and not f.name.startswith("."))
        else:
            missing.append(s)
    if missing:
        raise StepError(f"Not found: {', '.join(missing)}.",
                        "Name existing audio files or folders of them.")
    unique = list(dict.fromkeys(f.resolve() for f in found))
    if not unique:
        raise StepError("There is no speech to convert.",
                        "Name an audio file, or a folder holding some.")
    return unique


def cut(x: np.ndarray, max_clip_s: float, threshold_db: float = -34.0) -> list[Span]:
    """The whole source as one piece when it fits in ``max_clip_s``; otherwise upstream's
    slicer's kept ranges (cut at pauses), each split further at its quietest frames until
    it fits. The silence the slicer drops between ranges becomes the gaps."""
    n = int(x.shape[0])
    max_len = int(max_clip_s * SR)
    if n <= max_len:
        return [Span(0, n)] if n else []
    from engine.audio.slicer import (FrameGrid, SlicerParams, enforce_max_length, frame_rms,
                                     slice_bounds)

    # Pieces may be short (a pause is a pause), but never longer than the limit.
    min_len_ms = int(min(4000, max_clip_s * 1000 / 2))
    params = SlicerParams(threshold_db=threshold_db, min_length_ms=min_len_ms)
    grid = FrameGrid.of(params, SR)
    rms = frame_rms(x, grid.win, grid.hop)
    bounds = slice_bounds(x, SR, params, rms=rms)
    bounds = enforce_max_length(bounds, rms, grid.hop, max_len, int(MIN_PIECE_S * SR))
    return [Span(int(a), int(b)) for a, b in bounds if b > a]


def _units(text: str, language: str) -> tuple[list[str], str]:
    """Words (joined by spaces) or, for text written without spaces, characters."""
    words = text.split()
    if len(words) > 1 or language == "en":
        return words, " "
    return [c for c in text if not c.isspace()], ""


def share_text(text: str, spans: list[Span], language: str) -> list[str]:
    """A text given for the whole source, shared among its pieces in proportion to their
    length (the best guess without recognising the speech: the decoder reads the words
    from the sound; the text only steers the pronunciation)."""
    if len(spans) <= 1:
        return [text.strip()] * len(spans)
    units, sep = _units(text.strip(), language)
    total = sum(s.seconds for s in spans) or 1.0
    out, done, elapsed = [], 0, 0.0
    for s in spans:
        elapsed += s.seconds
        upto = round(len(units) * elapsed / total)
        out.append(sep.join(units[done:upto]))
        done = upto
    return out


def place(total: int, pieces: list[tuple[Span, np.ndarray]], speed: float = 1.0) -> np.ndarray:
    """The result: each converted piece at its source start (scaled by 1/speed), padded or
    trimmed to its source length (the decoder gives whole 40 ms codes), silence between."""
    out = np.zeros(int(round(total / speed)), dtype=np.float32)
    for span, audio in pieces:
        start = int(round(span.start / speed))
        length = min(int(round((span.end - span.start) / speed)), len(out) - start)
        take = np.asarray(audio, dtype=np.float32)[:length]
        out[start:start + len(take)] = take
    return out


def shift_pitch(audio: np.ndarray, semitones: float) -> np.ndarray:
    """The same audio, ``semitones`` higher (negative: lower), same length and timing."""
    if not semitones:
        return audio
    import librosa

    return librosa.effects.pitch_shift(np.asarray(audio, dtype=np.float32), sr=SR,
                                       n_steps=semitones).astype(np.float32)


_UNSAFE = re.compile(r"[^\w.\- ]+")


def output_stem(source: Path) -> str:
    """A plain file name for the result of ``source`` (its stem, odd characters dropped)."""
    stem = _UNSAFE.sub("_", source.stem).strip(" ._") or "converted"
    return stem
