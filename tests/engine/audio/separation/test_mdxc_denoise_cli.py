"""`gsv denoise` with an MDXC / RoFormer pair, in a real child process: the .ckpt + .yaml
found in the models folder's uvr5/, separated through the family dispatch, the voice
written to audio/clean and the removed part to audio/clean/other when asked; a damaged
yaml is a sentence and exit 1, never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.project import create_project
from tests.engine.audio.separation.tiny_mdxc import make_pair

REPO = Path(__file__).resolve().parents[4]
RATE = 16000


def _gsv(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # the child's torch, on a shared box
    return subprocess.run([sys.executable, "-m", "gsv_tui.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=240)


def test_gsv_denoise_runs_a_roformer_pair(tmp_path, gsv_home):
    uvr = gsv_home / "data" / "models" / "uvr5"
    uvr.mkdir(parents=True)
    make_pair(uvr, "mel_band_roformer", name="tiny_mel_band_roformer_vocals", chunk=4096,
              sr=RATE)
    root = tmp_path / "voice"
    create_project(root, "Voice", language="en", version="v2", slug="voice")
    t = np.arange(int(RATE * 2.5)) / RATE
    rng = np.random.default_rng(0)
    take = (0.3 * np.sin(2 * np.pi * 180 * t) + 0.05 * rng.standard_normal(t.size))
    raw = root / "audio" / "raw" / "take.wav"
    raw.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(raw), take.astype(np.float32), RATE)
    before = raw.read_bytes()

    out = _gsv("denoise", "-C", str(root), "--method", "models", "--models",
               "tiny_mel_band_roformer_vocals.ckpt", "--keep-other", "--device", "cpu")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    assert "tiny_mel_band_roformer_vocals.ckpt" in out.stdout + out.stderr
    voice, sr = sf.read(str(root / "audio" / "clean" / "take.wav"), always_2d=True)
    other, sr2 = sf.read(str(root / "audio" / "clean" / "other" / "take.wav"), always_2d=True)
    assert sr == sr2 and abs(voice.shape[0] / sr - 2.5) < 0.02
    assert voice.shape[1] == 1  # a mono take comes back mono
    assert np.abs(voice).max() > 1e-3 and np.abs(other).max() > 1e-3
    assert raw.read_bytes() == before  # the source recording is untouched

    bad = uvr / "tiny_mel_band_roformer_vocals.yaml"
    bad.write_text(bad.read_text().replace("num_bands: 6", "num_bands: 9"))
    (root / "audio" / "clean" / "take.wav").unlink()
    out = _gsv("denoise", "-C", str(root), "--method", "models", "--models",
               "tiny_mel_band_roformer_vocals.ckpt", "--device", "cpu")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "tiny_mel_band_roformer_vocals.ckpt does not match" in out.stderr
