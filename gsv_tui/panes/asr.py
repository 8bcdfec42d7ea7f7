"""Transcribe: Whisper or Paraformer writes the first transcript (upstream .list)."""
from __future__ import annotations

from typing import Any

from engine.asr.request import LANGUAGES, AsrRequest
from gsv_tui.panes.base import StepPane


class Pane(StepPane):
    step_id = "asr"
    request_cls = AsrRequest
    target = "engine.asr.step:run_asr"
    hidden_fields = ("project_root", "clips_dir", "model_dir", "speaker", "allow_download")

    def initial_settings(self) -> dict[str, Any]:
        stored = super().initial_settings()
        if "language" not in stored and self.project.language in LANGUAGES:
            stored["language"] = self.project.language  # the voice's language, not a guess
        return stored
