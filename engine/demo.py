"""A demo project made on the spot: English speech from espeak-ng, no downloads.

It holds one "raw recording" (sentences separated by silences, as a user would bring) under
``sources/``, imported and sliced by the real steps, and a transcript in the upstream ``.list``
dialect (the known sentences stand in for ASR, whose models are a download away), so every
data step and the proofreader have something real to show."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from engine.dataset.listfile import ListEntry
from engine.events import StepError
from engine.project import Project, create_project, load_project, record_step

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Voice cloning needs clean recordings and careful transcripts.",
    "Every clip should be between three and ten seconds long.",
    "Listen to each clip, fix the text, and press enter.",
    "Training goes on even when the connection drops.",
    "A good reference clip makes the synthesized voice sound natural.",
    "Short pauses between sentences give the slicer its cut points.",
    "When the model is ready, type any text and hear it in this voice.",
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


def build_demo(root: Path | str, version: str = "v2") -> Project:
    """Create (or reuse) the demo project at ``root``: a recording made on the spot goes
    through the real Import and Slice steps; the transcript is the known text of each clip."""
    import soundfile as sf

    from engine.audio.import_step import ImportRequest, run_import
    from engine.audio.slice_step import SliceRequest, run_slice
    from engine.events import Failed
    from engine.runner import drive

    root = Path(root).expanduser().resolve()
    if (root / "project.toml").exists():
        return load_project(root)
    if not shutil.which("espeak-ng"):
        raise StepError("espeak-ng is not installed, so the demo cannot make its speech.",
                        "Run `make setup` (it installs espeak-ng), or: sudo apt-get install espeak-ng")
    project = create_project(root, "Demo voice", language="en", version=version,
                             slug="demo-voice")
    layout = project.layout
    sources = root / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    gap = np.zeros(int(GAP_S * SR), dtype=np.float32)
    pieces, spans, pos = [gap], [], len(gap)
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(SENTENCES):
            speech = 0.6 * _espeak(text, Path(tmp) / f"s{i}.wav")
            spans.append((pos, pos + len(speech), text))
            pieces += [speech, gap]
            pos += len(speech) + len(gap)
    recording = sources / "recording.wav"
    sf.write(recording, np.concatenate(pieces), SR, subtype="PCM_16")

    for step_id, func, request in (
            ("import", run_import, ImportRequest(str(root), sources=[str(recording)])),
            ("slice", run_slice, SliceRequest(str(root), max_clip_s=10.0))):
        for event in drive(step_id, func, request):
            if isinstance(event, Failed):
                raise StepError(f"The demo's {step_id} step failed: {event.reason}", event.hint)

    manifest = json.loads((layout.slices_dir / "manifest.json").read_text(encoding="utf-8"))
    entries = []
    for clip in manifest["clips"]:
        # The clip's text: every sentence whose middle lies inside it (same 32 kHz timeline).
        said = [t for a, b, t in spans if clip["start"] <= (a + b) // 2 < clip["end"]]
        if said:
            entries.append(ListEntry(str(layout.slices_dir / clip["name"]), project.slug, "EN",
                                     " ".join(said)))
    layout.list_file.parent.mkdir(parents=True, exist_ok=True)
    # The demo plays ASR: its transcript goes in through the list's owner, as ASR's does.
    from engine.dataset.proofread.record import merge_asr_result

    merge_asr_result(layout.list_file, layout.proofread_journal, layout.root, entries,
                     known={e.wav for e in entries}, offered_before={})
    record_step(root, "asr", "done", message="demo transcript (the known sentences)",
                artifacts=[(str(layout.list_file), "list")])
    return load_project(root)
