"""The current clip: its facts, its full text, and an energy strip with the play head and
the split marker."""
from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.text import Text
from textual.containers import Vertical
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

BARS = " ▁▂▃▄▅▆▇█"


class EnergyStrip(Widget):
    """One row of bars (RMS per column), a play head ``┃`` and a split marker ``╎``."""

    COMPONENT_CLASSES = {"energy--bar", "energy--head", "energy--marker", "energy--played"}
    DEFAULT_CSS = """
    EnergyStrip { height: 3; background: $panel; }
    EnergyStrip > .energy--bar { color: $gsv-energy; }
    EnergyStrip > .energy--played { color: $gsv-reviewed; }
    EnergyStrip > .energy--head { color: $gsv-playhead; text-style: bold; }
    EnergyStrip > .energy--marker { color: $error; text-style: bold; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.env = np.zeros(0, dtype=np.float32)
        self.duration = 0.0
        self.head: float | None = None
        self.marker: float | None = None
        self._cache_key: tuple[int, int] | None = None
        self._cache: list[str] = []
        self._styles: dict | None = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

    class Clicked(Message):
        """A click on the strip: the time under the mouse (sets the split marker)."""

        def __init__(self, seconds: float) -> None:
            super().__init__()
            self.seconds = seconds

    def on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        if self.duration > 0 and self.size.width > 0:
            self.post_message(self.Clicked((event.x + 0.5) / self.size.width * self.duration))

    def show(self, env: np.ndarray, duration: float, marker: float | None) -> None:
        self.env, self.duration, self.marker, self.head = env, duration, marker, None
        self.refresh()

    def set_head(self, head: float | None) -> None:
        if head != self.head:
            self.head = head
            self.refresh()

    def set_marker(self, marker: float | None) -> None:
        self.marker = marker
        self.refresh()

    def _col(self, t: float | None, width: int) -> int | None:
        if t is None or self.duration <= 0 or width <= 0:
            return None
        return max(0, min(width - 1, int(t / self.duration * width)))

    def _rows(self, width: int) -> list[str]:
        """The three rows of characters for this width (cached until the clip changes)."""
        key = (width, id(self.env))
        if self._cache_key != key:
            idx = np.minimum((np.arange(width) * len(self.env)) // max(width, 1),
                             len(self.env) - 1)
            levels = np.round(self.env[idx] * 16).astype(int)  # 0..16 over two rows
            top = "".join(BARS[max(0, min(8, v - 8))] for v in levels)
            bottom = "".join(BARS[max(0, min(8, v))] for v in levels)
            self._cache = [top, bottom, "─" * width]
            self._cache_key = key
        return self._cache

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if len(self.env) == 0 or width <= 0 or y > 2:
            return Strip.blank(width, base)
        row = list(self._rows(width)[y])
        head, marker = self._col(self.head, width), self._col(self.marker, width)
        if self._styles is None:  # resolved once per style change, not per line
            self._styles = {k: base + self.get_component_rich_style(f"energy--{k}")
                            for k in ("bar", "played", "marker", "head")}
        style = self._styles
        kinds = ["played" if head is not None and x < head else "bar" for x in range(width)]
        if marker is not None:
            row[marker], kinds[marker] = ("╎" if y < 2 else "▲"), "marker"
        if head is not None:
            row[head], kinds[head] = "┃", "head"
        segs: list[Segment] = []  # runs of one style: a handful of segments per line
        start = 0
        for x in range(1, width + 1):
            if x == width or kinds[x] != kinds[start]:
                segs.append(Segment("".join(row[start:x]), style[kinds[start]]))
                start = x
        return Strip(segs, width)


class TextLines(Widget):
    """Fixed-height text: updating it repaints, never re-lays out the screen (Static.update
    does a layout pass, which costs more than the whole repaint at 10,000 clips)."""

    def __init__(self, text: str = "", **kw) -> None:
        super().__init__(**kw)
        self._text = text

    def set(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.refresh()

    @property
    def text(self) -> str:
        return self._text

    def render(self) -> Text:
        return Text(self._text, overflow="ellipsis")


class DetailPane(Vertical):
    DEFAULT_CSS = """
    DetailPane { height: 10; border-top: solid $primary; padding: 0 1; }
    DetailPane > #detail-facts { color: $text-muted; height: 1; }
    DetailPane > #detail-text { height: 3; }
    DetailPane > #detail-play { color: $text-muted; height: 2; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield TextLines(id="detail-facts")
        yield TextLines(id="detail-text")
        yield EnergyStrip(id="detail-strip")
        yield TextLines(id="detail-play")

    def show(self, facts: str, text: str) -> None:
        self.query_one("#detail-facts", TextLines).set(facts)
        self.query_one("#detail-text", TextLines).set(text)

    def set_play_line(self, line: str) -> None:
        self.query_one("#detail-play", TextLines).set(line)

    @property
    def strip(self) -> EnergyStrip:
        return self.query_one(EnergyStrip)
