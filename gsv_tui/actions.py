"""Keys are data: every app action declared once (id, description, default keys).

The footer, the help overlay and the bindings all come from this list; the user's
``[keymap]`` table in config.toml (``action-id = "keys"``) remaps any of them."""
from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class ActionSpec:
    id: str  # the Textual action name
    description: str
    keys: str  # default keys, comma separated, Textual key names
    group: str = "App"
    show: bool = True  # in the footer
    scope: str = ""  # "synthesize" for a pane's own keys: binding id "synthesize.play"

    @property
    def binding_id(self) -> str:
        """The id the user's ``[keymap]`` table names."""
        return f"{self.scope}.{self.id}" if self.scope else self.id


APP_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("help", "Keys and help", "f1,question_mark"),
    ActionSpec("next_step", "Next step", "ctrl+down,ctrl+j", "Wizard"),
    ActionSpec("prev_step", "Previous step", "ctrl+up,ctrl+k", "Wizard", show=False),
    ActionSpec("run_step", "Run this step", "ctrl+r", "Wizard"),
    ActionSpec("stop_step", "Stop this step's job", "ctrl+x", "Wizard", show=False),
    ActionSpec("open_project", "Open or create a project", "ctrl+o", show=False),
    ActionSpec("toggle_dark_light", "Cycle theme", "ctrl+t", show=False),
    ActionSpec("command_palette", "Command palette", "ctrl+p", show=False),
    ActionSpec("quit", "Quit (jobs keep running)", "ctrl+q"),
)


def bindings(specs: tuple[ActionSpec, ...], keymap: dict[str, str] | None = None) -> list[Binding]:
    keymap = keymap or {}
    out = []
    for spec in specs:
        keys = keymap.get(spec.binding_id, spec.keys)
        out.append(Binding(keys, spec.id, spec.description, show=spec.show, id=spec.binding_id))
    return out


def effective_keys(spec: ActionSpec, keymap: dict[str, str] | None = None) -> str:
    return (keymap or {}).get(spec.binding_id, spec.keys)
