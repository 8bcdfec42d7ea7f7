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
    subprocess.run(["sox", str(raw), "-r", str(sr), "-c", "1", "-b", "16", str(path)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    raw.unlink()
    return path


def speech_array(text: str, tmp: Path, *, sr: int = 32000, voice: str = "en") -> np.ndarray:
    """The same speech as float32 samples in [-1, 1]."""
    data, _ = sf.read(speak(text, Path(tmp) / "speech.wav", sr=sr, voice=voice), dtype="float32")
    return data


def silence(seconds: float, sr: int = 32000) -> np.ndarray:
    return np.zeros(int(round(seconds * sr)), dtype=np.float32)
