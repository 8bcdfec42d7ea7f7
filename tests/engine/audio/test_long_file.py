"""A 2-hour recording is imported in streaming fashion: peak memory stays far below what
decoding it whole would take (7200 s x 16 kHz x 4 bytes = 460 MB of float32)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[3]
MEMORY_BOUND_MB = 200  # whole process, interpreter and numpy/scipy included

CHILD = """
import json, sys
from engine.audio.import_step import ImportRequest, run_import
events = list(run_import(ImportRequest(project_root=sys.argv[2], sources=[sys.argv[1]])))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking (pytest) process
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak_mb = int(status.split()[0]) / 1024
print(json.dumps({"peak_mb": peak_mb, "files": events[-1].data["files"]}))
"""


def _two_hours(path: Path, sr: int = 16000) -> None:
    """Ten seconds of on/off tone written 720 times: 230 MB of 16-bit WAV in about a second."""
    t = np.arange(sr * 10) / sr
    block = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.2 * t) > 0)).astype(
        np.float32)
    with sf.SoundFile(str(path), "w", sr, 1, "PCM_16") as f:
        for _ in range(720):
            f.write(block)


def test_two_hour_file_streams_under_memory_bound(tmp_path):
    src = tmp_path / "two hours.wav"
    _two_hours(src)
    root = tmp_path / "project"
    out = subprocess.run([sys.executable, "-c", CHILD, str(src), str(root)], cwd=REPO,
                         capture_output=True, text=True, timeout=300, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    (f,) = res["files"]
    assert f["status"] == "ok" and f["duration_s"] == 7200.0
    assert f["silence_share"] == pytest.approx(0.5, abs=0.01)
    assert res["peak_mb"] < MEMORY_BOUND_MB, res["peak_mb"]
    copy = root / "audio" / "raw" / "two hours.wav"
    assert sf.info(str(copy)).frames == 7200 * 16000
    report = json.loads((root / "audio" / "raw" / "report.json").read_text())
    assert "more than 30 min" in report["guidance"]
    src.unlink()
    copy.unlink()

