"""Speech for tests, generated on the spot with espeak-ng and sox (nothing committed)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(text: str, path: Path | str, *, sr: int = 32000, voice: str = "en",
          speed: int = 160) -> Path:
    """Write ``text`` spoken by espeak-ng as a mono 16-bit wav at ``sr`` Hz."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["sox", "-R", str(raw), "-r", str(sr), "-c", "1", "-b", "16", str(path)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    raw.unlink()
    return path


def speech_array(text: str, tmp: Path, *, sr: int = 32000, voice: str = "en") -> np.ndarray:
    """The same speech as float32 samples in [-1, 1]."""
    data, _ = sf.read(speak(text, Path(tmp) / "speech.wav", sr=sr, voice=voice), dtype="float32")
    return data


def silence(seconds: float, sr: int = 32000) -> np.ndarray:
    return np.zeros(int(round(seconds * sr)), dtype=np.float32)


def join_sentences(parts: list[np.ndarray], order, gaps_s, gains_db, sr: int
                   ) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """``parts[order[k]]`` back to back at gain ``gains_db[k]``, ``gaps_s[k]`` seconds of
    digital silence before each but the first, 0.5 s of silence at both ends: the samples
    and each sentence's (start, end)."""
    pieces, spans, pos = [np.zeros(sr // 2, np.float32)], [], sr // 2
    for k, i in enumerate(order):
        if k:
            gap = np.zeros(int(gaps_s[k] * sr), np.float32)
            pieces.append(gap)
            pos += gap.size
        part = parts[i] * np.float32(10 ** (gains_db[k] / 20))
        pieces.append(part)
        spans.append((pos, pos + part.size))
        pos += part.size
    pieces.append(np.zeros(sr // 2, np.float32))
    return np.concatenate(pieces), spans
