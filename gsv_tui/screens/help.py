"""The help overlay, generated from the action registry (so it always shows the real keys)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from gsv_tui.actions import ActionSpec, effective_keys


def _pretty(keys: str) -> str:
    return " / ".join(k.replace("ctrl+", "Ctrl+").replace("question_mark", "?")
                      .replace("down", "↓").replace("up", "↑") for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; height: 80%; border: thick $primary;
                                  background: $surface; padding: 1 2; }
    HelpScreen .group { text-style: bold; color: $accent; padding-top: 1; }
    HelpScreen .row { color: $foreground; }
    """

    def __init__(self, specs: list[ActionSpec], keymap: dict[str, str], intro: str = "") -> None:
        super().__init__()
        self.specs = specs
        self.keymap = keymap
        self.intro = intro

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Label("Keys", classes="group")
            if self.intro:
                yield Static(self.intro)
            groups: dict[str, list[ActionSpec]] = {}
            for spec in self.specs:  # grouped, in order of first appearance
                groups.setdefault(spec.group, []).append(spec)
            for group, specs in groups.items():
                yield Label(group, classes="group")
                for spec in specs:
                    yield Static(f"{_pretty(effective_keys(spec, self.keymap)):<26} {spec.description}",
                                 classes="row", markup=False)
            yield Static("\nRemap any key in config.toml under [keymap], e.g. run_step = \"f5\".\n"
                         "Esc closes this help.", classes="row")
