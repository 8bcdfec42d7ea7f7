"""Small modal dialogs: a one-line prompt, search and replace, the key help, sound set-up."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.keys import key_to_character
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from gsv_tui.proofread.actions import ACTIONS, keys_for

_DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 72; height: auto; max-height: 90%; border: thick $primary;
                    background: $surface; padding: 1 2; }}
{name} Label {{ color: $text-muted; }}
"""


class Prompt(ModalScreen[str | None]):
    """Ask one line; Enter returns it, Escape returns None."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="Prompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "", restrict: str | None = None) -> None:
        super().__init__()
        self.question, self.value, self.restrict = question, value, restrict

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Input(self.value, restrict=self.restrict, id="prompt-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReplaceDialog(ModalScreen[tuple[str, str] | None]):
    """Find and replace; Enter in the first field moves on, Enter in the second applies."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="ReplaceDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, find: str = "") -> None:
        super().__init__()
        self.find = find

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Replace in the texts of the clips shown (one undo)")
            yield Input(self.find, placeholder="find", id="find")
            yield Input(placeholder="replace with", id="repl")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "find":
            self.query_one("#repl", Input).focus()
        else:
            self.dismiss((self.query_one("#find", Input).value, event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextPanel(ModalScreen[None]):
    """A read-only panel (help, sound set-up); any of Escape, q, ? closes it."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="TextPanel") + \
        "TextPanel > Vertical { width: 96; }\nTextPanel #panel-title { text-style: bold; }"
    BINDINGS = [Binding("escape,q,question_mark,f2", "close", "Close")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text, self.body = title, body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, id="panel-title", markup=False)
            with VerticalScroll():
                yield Static(self.body, id="panel-body", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)


def key_display(key: str) -> str:
    """``left_square_bracket`` → ``[``; names without a printable character stay names."""
    ch = key_to_character(key)
    return ch if ch and ch.strip() else key


def help_text(keymap: dict[str, str] | None = None) -> str:
    lines: list[str] = []
    group = None
    for a in ACTIONS:
        if a.group != group:
            group = a.group
            lines.append(f"\n{group}" if lines else group)
        keys = ", ".join(key_display(k.strip()) for k in keys_for(a, keymap).split(","))
        lines.append(f"  {keys:<16} {a.description}")
    lines.append("\nEditing: Enter saves the text and accepts; Escape leaves the editor and "
                 "remembers the cursor for a split.")
    return "\n".join(lines)
