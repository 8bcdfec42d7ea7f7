"""The wizard's steps, in order. One list shared by the project file, the CLI and the TUI."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepInfo:
    id: str
    title: str
    summary: str
    optional: bool = False


STEPS: tuple[StepInfo, ...] = (
    StepInfo("project", "Project", "Name, language and model version"),
    StepInfo("import", "Import", "Bring in recordings; check length, loudness, clipping"),
    StepInfo("denoise", "Clean", "Denoise or isolate the voice (optional)", optional=True),
    StepInfo("slice", "Slice", "Cut recordings into short clips at silences"),
    StepInfo("asr", "Transcribe", "Speech recognition writes a first transcript"),
    StepInfo("proofread", "Proofread", "Listen to each clip and fix its text"),
    StepInfo("format", "Format", "Phonemes, BERT, HuBERT and semantic tokens (1A)"),
    StepInfo("train", "Train", "Fine-tune SoVITS, then GPT"),
    StepInfo("synthesize", "Synthesize", "Speak new text in the trained voice"),
)
STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS)
STEP_BY_ID: dict[str, StepInfo] = {s.id: s for s in STEPS}


def later_steps(step_id: str) -> tuple[str, ...]:
    """Steps after ``step_id``: their outputs go stale when its output changes."""
    return STEP_IDS[STEP_IDS.index(step_id) + 1 :]
