"""Transcribe: Whisper or Paraformer writes the first transcript (upstream .list)."""
from __future__ import annotations

from gsv_tui.panes.base import StepPane


class Pane(StepPane):
    step_id = "asr"
    hidden_fields = ("project_root", "clips_dir", "model_dir", "speaker", "allow_download")
