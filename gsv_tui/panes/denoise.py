"""Clean (optional): the built-in spectral gate, or the user's MDX-Net models."""
from __future__ import annotations

from gsv_tui.panes.base import StepPane


class Pane(StepPane):
    step_id = "denoise"
    hidden_fields = ("project_root", "source", "models")
