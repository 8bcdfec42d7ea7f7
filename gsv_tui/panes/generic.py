"""The pane for a step that has no screen of its own yet: status and the headless command."""
from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Static

from engine.project import Project
from gsv_tui.panes.base import StepPane


class GenericPane(StepPane):
    def __init__(self, project: Project, step_id: str, error: str = "", **kw: Any) -> None:
        self.step_id = step_id  # instance attribute: one class serves every such step
        self.error = error
        super().__init__(project, **kw)

    def compose_extra(self) -> ComposeResult:
        if self.error:
            yield Static(self.error, classes="pane-failed")
        yield Static(f"This step runs headless with `gsv {self.step_id} -C {self.project.root}`;\n"
                     "its screen here is not written yet.", classes="pane-summary")
