"""Transcribe: Whisper or Paraformer writes the first transcript (upstream .list)."""
from __future__ import annotations

from engine.asr.request import AsrRequest
from gsv_tui.panes.base import StepPane


class Pane(StepPane):
    step_id = "asr"
    request_cls = AsrRequest
    target = "engine.asr.step:run_asr"
    hidden_fields = ("project_root", "clips_dir", "model_dir", "speaker", "allow_download")
