"""The first step: what the project is, where it lives, and what the machine offers."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from engine.project import LANGUAGES
from engine.steps import STEPS
from gsv_tui.panes.base import StepPane


class Pane(StepPane):
    step_id = "project"

    def compose_extra(self) -> ComposeResult:
        p = self.project
        yield Static(
            f"Name      {p.name}\n"
            f"Slug      {p.slug}   (names every file and model)\n"
            f"Language  {LANGUAGES.get(p.language, p.language)}\n"
            f"Model     GPT-SoVITS {p.version}\n"
            f"Folder    {p.root}\n",
            id="project-facts")
        todo = [s for s in STEPS[1:] if not s.optional and p.step(s.id).status != "done"]
        nxt = (f"Next: {todo[0].title} — {todo[0].summary.lower()} (pick it on the left)."
               if todo else "Every step is done: synthesize more, or export the voice.")
        yield Static(nxt + "\n`gsv doctor` checks the GPU, ffmpeg, audio playback and disk.",
                     classes="pane-summary", markup=False)
