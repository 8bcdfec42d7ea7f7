"""The list of wizard steps with each one's status."""
from __future__ import annotations

from textual.widgets import Label, ListItem, ListView

from engine.project import Project
from engine.steps import STEPS

MARKS = {"pending": "·", "running": "▶", "done": "✔", "failed": "✘", "stale": "↻"}


class StepItem(ListItem):
    def __init__(self, step_id: str, title: str) -> None:
        super().__init__(Label(title, id=f"label-{step_id}", markup=False), id=f"step-{step_id}")
        self.step_id = step_id
        self.title = title
        self.status = "pending"

    def set_status(self, status: str) -> None:
        for s in MARKS:
            self.remove_class(f"-{s}")
        self.add_class(f"-{status}")
        self.status = status
        self.query_one(Label).update(f"{MARKS.get(status, '?')} {self.title}")


class Sidebar(ListView):
    DEFAULT_CSS = """
    Sidebar { width: 22; border-right: vkey $panel; background: $surface; }
    Sidebar StepItem { padding: 0 1; }
    Sidebar StepItem.-done Label { color: $gsv-done; }
    Sidebar StepItem.-failed Label { color: $gsv-failed; }
    Sidebar StepItem.-running Label { color: $gsv-running; text-style: bold; }
    Sidebar StepItem.-stale Label { color: $gsv-stale; }
    Sidebar StepItem.-pending Label { color: $gsv-pending; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(*[StepItem(s.id, s.title) for s in STEPS], **kw)

    def update_statuses(self, project: Project, running: set[str]) -> None:
        for item in self.query(StepItem):
            status = "running" if item.step_id in running else project.step(item.step_id).status
            item.set_status(status)
