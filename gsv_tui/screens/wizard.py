"""The main screen: steps on the left, the current step's pane on the right."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Label, ListView

from engine.project import Project
from engine.steps import STEP_IDS
from gsv_tui.panes import pane_class
from gsv_tui.panes.generic import GenericPane
from gsv_tui.widgets.sidebar import Sidebar, StepItem


class WizardScreen(Screen[None]):
    DEFAULT_CSS = """
    WizardScreen #topbar { height: 1; width: 100%; background: $panel; color: $foreground; padding: 0 1; }
    WizardScreen #main { height: 1fr; }
    WizardScreen ContentSwitcher { width: 1fr; }
    """

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        self.current_step = "project"

    def compose(self) -> ComposeResult:
        yield Label(self._topbar_text(), id="topbar", markup=False)
        with Horizontal(id="main"):
            yield Sidebar(id="sidebar")
            yield ContentSwitcher(id="panes")
        yield Footer()

    def _topbar_text(self, jobs: int = 0) -> str:
        p = self.project
        running = f"   ▶ {jobs} job{'s' if jobs != 1 else ''} running" if jobs else ""
        return f"gsv-tui · {p.name} [{p.slug}] · {p.language} · {p.version}{running}"

    def on_mount(self) -> None:
        self.show_step(self.current_step)
        self.query_one(Sidebar).focus()
        self.call_after_refresh(self.app.refresh_statuses)

    def pane(self, step_id: str, create: bool = False):
        switcher = self.query_one(ContentSwitcher)
        found = switcher.query(f"#pane-{step_id}")
        if found:
            return found.first()
        if not create:
            return None
        cls, error = pane_class(step_id)
        pane = GenericPane(self.project, step_id, error) if cls is GenericPane else cls(self.project)
        switcher.mount(pane)
        return pane

    def show_step(self, step_id: str) -> None:
        self.current_step = step_id
        self.pane(step_id, create=True)
        switcher = self.query_one(ContentSwitcher)
        switcher.current = f"pane-{step_id}"
        sidebar = self.query_one(Sidebar)
        index = STEP_IDS.index(step_id)
        if sidebar.index != index:
            sidebar.index = index

    @on(ListView.Highlighted, "#sidebar")
    def _highlighted(self, event: ListView.Highlighted) -> None:
        if isinstance(event.item, StepItem) and event.item.step_id != self.current_step:
            self.show_step(event.item.step_id)

    @on(ListView.Selected, "#sidebar")
    def _selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, StepItem):
            self.show_step(event.item.step_id)
            pane = self.pane(event.item.step_id)
            if pane is not None:
                pane.focus()

    def move(self, delta: int) -> None:
        index = STEP_IDS.index(self.current_step) + delta
        if 0 <= index < len(STEP_IDS):
            self.show_step(STEP_IDS[index])

    def update_statuses(self, project: Project, running: set[str]) -> None:
        self.project = project
        sidebars, topbars = self.query(Sidebar), self.query("#topbar")
        if not sidebars or not topbars:
            return  # not composed yet (on_mount asks the app again), or being torn down
        sidebars.first().update_statuses(project, running)
        topbars.first(Label).update(self._topbar_text(len(running)))
