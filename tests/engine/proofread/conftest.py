"""A small real project-like folder: tone clips (fast) written with soundfile."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


def tone(path: Path, seconds: float, freq: float = 220.0, sr: int = 32000) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr,
             subtype="PCM_16")
    return path


@pytest.fixture
def listdir(tmp_path: Path) -> Path:
    """tmp/clips/c0..c3.wav and tmp/demo.list with absolute paths, a malformed line, CRLF."""
    wavs = [tone(tmp_path / "clips" / f"c{i}.wav", 1.0 + i, 200 + 50 * i) for i in range(4)]
    lines = [f"{wavs[0]}|spk|EN|hello there\n",
             f"{wavs[1]}|spk|EN|second clip\r\n",
             "this line has no pipes at all\n",
             f"{wavs[2]}|spk|ZH|你好世界\n",
             "\n",
             f"{wavs[3]}|spk|EN|last one without newline"]
    (tmp_path / "demo.list").write_bytes("".join(lines).encode("utf-8"))
    return tmp_path


from tests.engine.proofread.pulse import pulse  # noqa: E402,F401  (re-exported fixture)
