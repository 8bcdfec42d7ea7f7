"""Clean (optional): the built-in spectral gate, or the user's MDX-Net models."""
from __future__ import annotations

from engine.audio.denoise_step import DenoiseRequest
from gsv_tui.panes.base import StepPane


class Pane(StepPane):
    step_id = "denoise"
    request_cls = DenoiseRequest
    target = "engine.audio.denoise_step:run_denoise"
    hidden_fields = ("project_root", "source", "models")
