"""The first step: what the project is, where it lives, and what the machine offers."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from engine.project import LANGUAGES
from gsv_tui.panes.base import StepPane


class Pane(StepPane):
    step_id = "project"
    has_jobs = False

    def compose_extra(self) -> ComposeResult:
        p = self.project
        yield Static(
            f"Name      {p.name}\n"
            f"Slug      {p.slug}   (names every file and model)\n"
            f"Language  {LANGUAGES.get(p.language, p.language)}\n"
            f"Model     GPT-SoVITS {p.version}\n"
            f"Folder    {p.root}\n",
            id="project-facts")
        yield Static("Next: Import your recordings (ctrl+↓ or pick it on the left).\n"
                     "`gsv doctor` checks the GPU, ffmpeg, audio playback and disk.",
                     classes="pane-summary")
