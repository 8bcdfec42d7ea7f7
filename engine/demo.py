"""A demo project made on the spot: English speech from espeak-ng, no downloads.

It holds one "raw recording" (sentences separated by silences, as a user would bring) under
``sources/``, the clips cut from it under ``audio/slices/``, and a transcript in the upstream
``.list`` dialect, so every data step and the proofreader have something real to show."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from engine.dataset.listfile import ListEntry, write_list
from engine.events import StepError
from engine.project import Project, create_project, load_project, record_step

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Voice cloning needs clean recordings and careful transcripts.",
    "Every clip should be between three and ten seconds long.",
    "Listen to each clip, fix the text, and press enter.",
    "Training goes on even when the connection drops.",
    "A good reference clip makes the synthesized voice sound natural.",
)
SR = 32000
GAP_S = 0.9


def _espeak(text: str, out: Path) -> np.ndarray:
    import soundfile as sf

    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data, sr = sf.read(raw, dtype="float32")
    raw.unlink()
    if data.ndim > 1:
        data = data.mean(axis=1)
    import soxr

    return soxr.resample(data, sr, SR).astype(np.float32)


def build_demo(root: Path | str) -> Project:
    """Create (or reuse) the demo project at ``root``."""
    import soundfile as sf

    root = Path(root).expanduser().resolve()
    if (root / "project.toml").exists():
        return load_project(root)
    if not shutil.which("espeak-ng"):
        raise StepError("espeak-ng is not installed, so the demo cannot make its speech.",
                        "Run `make setup` (it installs espeak-ng), or: sudo apt-get install espeak-ng")
    project = create_project(root, "Demo voice", language="en", version="v2", slug="demo-voice")
    layout = project.layout
    sources = root / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    layout.slices_dir.mkdir(parents=True, exist_ok=True)
    gap = np.zeros(int(GAP_S * SR), dtype=np.float32)
    pieces, entries, pos = [gap], [], len(gap)
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(SENTENCES):
            speech = 0.6 * _espeak(text, Path(tmp) / f"s{i}.wav")
            start, end = pos, pos + len(speech)
            clip = layout.slices_dir / f"recording.wav_{start:010d}_{end:010d}.wav"
            sf.write(clip, speech, SR, subtype="PCM_16")
            entries.append(ListEntry(str(clip), project.slug, "EN", text))
            pieces += [speech, gap]
            pos = end + len(gap)
    sf.write(sources / "recording.wav", np.concatenate(pieces), SR, subtype="PCM_16")
    layout.list_file.parent.mkdir(parents=True, exist_ok=True)
    write_list(layout.list_file, entries)
    record_step(root, "import", "done", message="demo recording (espeak-ng)",
                artifacts=[(str(sources / "recording.wav"), "source")])
    record_step(root, "slice", "done", message=f"{len(entries)} demo clips",
                artifacts=[(str(layout.slices_dir), "clips")])
    record_step(root, "asr", "done", message="demo transcript (the known sentences)",
                artifacts=[(str(layout.list_file), "list")])
    return load_project(root)
