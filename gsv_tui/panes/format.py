"""Format (upstream's 1A): phonemes, BERT and HuBERT features, 32 kHz wavs and semantic
tokens, written to logs/<slug>/ exactly as upstream's trainers read them."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from gsv_tui.panes.base import StepPane


class Pane(StepPane):
    step_id = "format"

    def compose_extra(self) -> ComposeResult:
        yield Static("Reads the proofread transcript (deleted clips left out). Re-running only "
                     "does what is missing or changed; a stopped run resumes.",
                     classes="pane-summary")
