"""A form generated from a request dataclass's knobs (engine.settings): one labelled input
per knob, validated against its type and range before anything runs."""
from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Switch

from engine.settings import default_of, knobs, label_of


class SettingsForm(Vertical):
    """Shows knobs of ``request_cls`` with values from ``stored`` (the project's settings)."""

    DEFAULT_CSS = """
    SettingsForm { height: auto; margin-top: 1; }
    SettingsForm .knob { height: auto; margin-bottom: 0; }
    SettingsForm .knob Label.name { width: 24; padding: 0 1 0 0; }
    SettingsForm .knob Input, SettingsForm .knob Select { width: 24; }
    SettingsForm .knob Switch { height: 1; border: none; padding: 0; width: 24; }
    SettingsForm .knob Label.help { color: $text-muted; padding: 0 0 0 1; width: 1fr; }
    """

    def __init__(self, request_cls: type, stored: dict[str, Any] | None = None,
                 skip: tuple[str, ...] = (), **kw: Any) -> None:
        super().__init__(**kw)
        self.request_cls = request_cls
        self.stored = stored or {}
        self.fields = [f for f in knobs(request_cls) if f.name not in skip
                       and _editable(default_of(f))]

    def compose(self) -> ComposeResult:
        for f in self.fields:
            value = self.stored.get(f.name, default_of(f))
            meta = f.metadata
            with Horizontal(classes="knob"):
                yield Label(label_of(f), classes="name")  # the knob's label, with its unit
                wid = f"knob-{f.name}"
                if meta.get("choices"):
                    yield Select([(str(c), c) for c in meta["choices"]], value=value,
                                 allow_blank=False, id=wid, compact=True)
                elif isinstance(value, bool):
                    yield Switch(value=value, id=wid)
                else:
                    kind = "integer" if isinstance(value, int) else (
                        "number" if isinstance(value, float) else "text")
                    yield Input("" if value is None else str(value), type=kind, id=wid,
                                compact=True)
                yield Label(meta["help"], classes="help")

    def values(self) -> dict[str, Any]:
        """Current values, converted to each knob's type. Raises ValueError with the knob name."""
        out: dict[str, Any] = {}
        for f in self.fields:
            default = default_of(f)
            w = self.query_one(f"#knob-{f.name}")
            if isinstance(w, Switch):
                out[f.name] = bool(w.value)
            elif isinstance(w, Select):
                out[f.name] = w.value
            else:
                text = w.value.strip()
                try:
                    if isinstance(default, bool):
                        out[f.name] = text.lower() in ("1", "true", "yes", "on")
                    elif isinstance(default, int):
                        out[f.name] = int(text)
                    elif isinstance(default, float):
                        out[f.name] = float(text)
                    else:
                        out[f.name] = text
                except ValueError:
                    raise ValueError(f"{label_of(f)}: {text!r} is not a number") from None
        return out


def _editable(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))

