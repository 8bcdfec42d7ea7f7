"""Project picker: recent projects, open a folder, or create a new project."""
from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, ListItem, ListView, Select, Static

from engine.appconfig import load_config
from engine.project import (LANGUAGES, MODEL_VERSIONS, NEW_PROJECT_VERSION, VERSION_NOTES,
                            ProjectError, create_project, load_project)
from engine.slug import slugify


class PickerScreen(Screen[str]):
    """Dismisses with the chosen project's root folder."""

    BINDINGS = [Binding("escape", "app.quit", "Quit")]
    DEFAULT_CSS = """
    PickerScreen { align: center top; }
    PickerScreen > Vertical { width: 90; height: auto; padding: 1 2; }
    PickerScreen .h { text-style: bold; color: $primary; padding-top: 1; }
    PickerScreen ListView { height: auto; max-height: 10; border: round $panel; }
    PickerScreen Horizontal { height: auto; }
    PickerScreen Input { width: 1fr; }
    PickerScreen Select { width: 18; }
    PickerScreen #slug-preview { color: $text-muted; }
    PickerScreen #picker-error { color: $error; }
    """

    def compose(self) -> ComposeResult:
        recent = [r for r in load_config().recent_projects if (Path(r) / "project.toml").exists()]
        with Vertical():
            yield Label("gsv-tui — recordings to a GPT-SoVITS voice", classes="h")
            yield Label("Recent projects", classes="h")
            if recent:
                yield ListView(*[ListItem(Label(r), name=r) for r in recent], id="recent")
            else:
                yield Static("none yet", id="recent-none")
            yield Label("Open a project folder", classes="h")
            with Horizontal():
                yield Input(placeholder="/path/to/project", id="open-path")
                yield Button("Open", id="open")
            yield Label("New project", classes="h")
            yield Input(placeholder="Name (any script)", id="new-name")
            yield Static("", id="slug-preview")
            with Horizontal():
                yield Input(placeholder="Folder (default ./<slug>)", id="new-dir")
                yield Select([(v, k) for k, v in LANGUAGES.items()], value="en",
                             allow_blank=False, id="new-lang")
                # one line per version saying how it differs (engine.project.VERSION_NOTES)
                yield Select([(f"{v} — {VERSION_NOTES[v]}", v) for v in
                              sorted(MODEL_VERSIONS, key=list(VERSION_NOTES).index)],
                             value=NEW_PROJECT_VERSION, allow_blank=False, id="new-version")
            yield Button("Create", id="create", variant="primary")
            yield Static("", id="picker-error", markup=False)
        yield Footer()

    @on(Input.Changed, "#new-name")
    def _preview(self, event: Input.Changed) -> None:
        name = event.value.strip()
        self.query_one("#slug-preview", Static).update(f"files and models will be named: {slugify(name)}" if name else "")

    @on(ListView.Selected, "#recent")
    def _recent(self, event: ListView.Selected) -> None:
        self._open(event.item.name or "")

    @on(Button.Pressed, "#open")
    @on(Input.Submitted, "#open-path")
    def _open_pressed(self) -> None:
        self._open(self.query_one("#open-path", Input).value.strip())

    def _open(self, path: str) -> None:
        try:
            project = load_project(path or ".")
        except ProjectError as exc:
            self.query_one("#picker-error", Static).update(str(exc))
            return
        self.dismiss(str(project.root))

    @on(Button.Pressed, "#create")
    @on(Input.Submitted, "#new-name")
    def _create(self) -> None:
        name = self.query_one("#new-name", Input).value.strip()
        folder = self.query_one("#new-dir", Input).value.strip()
        try:
            root = Path(folder).expanduser() if folder else Path.cwd() / slugify(name or "x")
            project = create_project(root, name, language=self.query_one("#new-lang", Select).value,
                                     version=self.query_one("#new-version", Select).value)
        except ProjectError as exc:
            self.query_one("#picker-error", Static).update(str(exc))
            return
        self.dismiss(str(project.root))
