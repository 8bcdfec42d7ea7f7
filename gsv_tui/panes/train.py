"""Train: SoVITS then GPT in one background job; live losses and ETA; resumes by itself."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from gsv_tui.panes.base import StepPane


class Pane(StepPane):
    step_id = "train"
    hidden_fields = ("project_root", "allow_download", "sovits", "gpt")

    def compose_extra(self) -> ComposeResult:
        yield Static("Training runs as a background job: you may quit or lose the connection; "
                     "`gsv` re-attaches. Running it again resumes from the newest checkpoint.",
                     classes="pane-summary")
