"""The current clip: its facts, its full text, and an energy strip with the play head and
the split marker."""
from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.containers import Vertical
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

BARS = " ▁▂▃▄▅▆▇█"


class EnergyStrip(Widget):
    """One row of bars (RMS per column), a play head ``┃`` and a split marker ``╎``."""

    COMPONENT_CLASSES = {"energy--bar", "energy--head", "energy--marker", "energy--played"}
    DEFAULT_CSS = """
    EnergyStrip { height: 3; background: $panel; }
    EnergyStrip > .energy--bar { color: $primary; }
    EnergyStrip > .energy--played { color: $success; }
    EnergyStrip > .energy--head { color: $warning; text-style: bold; }
    EnergyStrip > .energy--marker { color: $error; text-style: bold; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.env = np.zeros(0, dtype=np.float32)
        self.duration = 0.0
        self.head: float | None = None
        self.marker: float | None = None

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

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if len(self.env) == 0 or width <= 0:
            return Strip.blank(width, base)
        # three rows: top half of tall bars, bottom half, then the time axis
        idx = np.minimum((np.arange(width) * len(self.env)) // max(width, 1), len(self.env) - 1)
        levels = np.round(self.env[idx] * 16).astype(int)  # 0..16 over two rows
        head, marker = self._col(self.head, width), self._col(self.marker, width)
        bar = base + self.get_component_rich_style("energy--bar")
        played = base + self.get_component_rich_style("energy--played")
        segs: list[Segment] = []
        for x in range(width):
            if y < 2:
                lv = levels[x] - (8 if y == 0 else 0)
                ch = BARS[max(0, min(8, lv))]
            else:
                ch = "─"
            st: Style = played if head is not None and x < head else bar
            if x == marker:
                ch, st = ("╎" if y < 2 else "▲"), base + self.get_component_rich_style(
                    "energy--marker")
            if x == head:
                ch, st = "┃", base + self.get_component_rich_style("energy--head")
            segs.append(Segment(ch, st))
        return Strip(segs, width)


class DetailPane(Vertical):
    DEFAULT_CSS = """
    DetailPane { height: auto; max-height: 50%; border-top: solid $primary; padding: 0 1; }
    DetailPane > #detail-facts { color: $text-muted; height: 1; }
    DetailPane > #detail-text { height: auto; max-height: 6; }
    DetailPane > #detail-play { color: $text-muted; height: auto; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="detail-facts", markup=False)
        yield Static(id="detail-text", markup=False)
        yield EnergyStrip(id="detail-strip")
        yield Static(id="detail-play", markup=False)

    def show(self, facts: str, text: str) -> None:
        self.query_one("#detail-facts", Static).update(facts)
        self.query_one("#detail-text", Static).update(text or " ")

    def set_play_line(self, line: str) -> None:
        self.query_one("#detail-play", Static).update(line)

    @property
    def strip(self) -> EnergyStrip:
        return self.query_one(EnergyStrip)
