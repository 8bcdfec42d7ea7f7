"""`gsv import`, `gsv denoise` and `gsv slice` headless, on a real project folder."""
from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from engine.project import create_project
from gsv_tui.cli import main

from .conftest import SR


def test_import_denoise_slice_commands(tmp_path, speech_with_gaps, capsys):
    root = tmp_path / "voice"
    create_project(root, "Voice", language="en", version="v2", slug="voice")
    rec = tmp_path / "rec"
    rec.mkdir()
    sf.write(str(rec / "day one.wav"), speech_with_gaps.audio, SR)
    (rec / "broken.mp3").write_text("not audio")
    assert main(["import", str(rec), "-C", str(root), "--normalize"]) == 0
    out = capsys.readouterr()
    assert "day one.wav" in out.out and "not imported: broken.mp3" in out.out
    peak = np.abs(sf.read(str(root / "audio/raw/day one.wav"))[0]).max()
    assert -9.05 <= 20 * np.log10(peak) <= -5.95
    assert main(["denoise", "-C", str(root), "--strength", "0.5"]) == 0
    assert (root / "audio/clean/day one.wav").is_file()
    assert main(["slice", "-C", str(root), "--min-length-ms", "1000", "--max-clip-s", "5"]) == 0
    manifest = json.loads((root / "audio/slices/manifest.json").read_text())
    assert manifest["clips"] and all(c["seconds"] <= 5 for c in manifest["clips"])
    assert all(c["source"] == "day one.wav" for c in manifest["clips"])
    assert main(["slice", "-C", str(root), "--min-interval-ms", "9000"]) == 1
    assert "min_length ≥ min_interval ≥ hop" in capsys.readouterr().err
