"""Long recordings in bounded memory: a 2-hour file is imported in streaming fashion, and
a 1-hour file is sliced, each far below what decoding it whole would take (460 MB of
float32 both times). Peak memory is read from the child's VmHWM."""
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


SLICE_CHILD = """
import json, sys
from engine.audio.slice_step import SliceRequest, run_slice
events = list(run_slice(SliceRequest(project_root=sys.argv[2], source=sys.argv[1])))
status = open("/proc/self/status").read().split("VmHWM:")[1]
print(json.dumps({"peak_mb": int(status.split()[0]) / 1024, "data": events[-1].data}))
"""


def _on_off_tone(path: Path, sr: int = 16000, blocks: int = 720) -> None:
    """2.5 s of tone, 2.5 s of silence: ten seconds written `blocks` times (720: two hours,
    230 MB of 16-bit WAV at 16 kHz, in about a second)."""
    t = np.arange(sr * 10) / sr
    block = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.2 * t) > 0)).astype(
        np.float32)
    with sf.SoundFile(str(path), "w", sr, 1, "PCM_16") as f:
        for _ in range(blocks):
            f.write(block)


def test_two_hour_file_streams_under_memory_bound(tmp_path):
    src = tmp_path / "two hours.wav"
    _on_off_tone(src)
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



def test_one_hour_file_slices_under_memory_bound(tmp_path):
    src = tmp_path / "one hour.wav"
    _on_off_tone(src, sr=32000, blocks=360)  # one hour
    root = tmp_path / "project"
    out = subprocess.run([sys.executable, "-c", SLICE_CHILD, str(src), str(root)], cwd=REPO,
                         capture_output=True, text=True, timeout=300, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    summary = res["data"]["summary"]
    # 2.5 s of tone then 2.5 s of silence: one clip per tone, with up to 0.5 s of silence kept
    assert res["data"]["clips"] == 720 and 2.5 <= summary["min_s"] <= summary["max_s"] < 3.05
    assert res["peak_mb"] < MEMORY_BOUND_MB, res["peak_mb"]
    slices = root / "audio" / "slices"
    assert not [p for p in slices.iterdir() if p.name.startswith(".slicing-")]
