"""The clip list: one line per clip, only the visible lines are ever rendered.

A ScrollView with the line API, so a key press costs the ~30 lines on screen whatever the
number of clips. The widget is a view: the screen hands it rows and a cursor; it reports
nothing but clicks.
"""
from __future__ import annotations

from typing import Callable, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.dataset.proofread.clips import Clip
from engine.dataset.proofread.info import ClipInfo


def fmt_duration(seconds: float | None) -> str:
    return "  ?  " if seconds is None else f"{seconds:5.1f}"


def status_glyph(c: Clip, info: ClipInfo) -> str:
    if c.malformed:
        return "!"
    if c.deleted:
        return "x"
    if c.entry is not None and info.duration is None:
        return "?"
    if c.reviewed:
        return "✓"
    return "✎" if c.edited else "·"


class ClipList(ScrollView, can_focus=True, inherit_bindings=False):
    # inherit_bindings=False: ScrollView's own up/down/page keys would scroll the view
    # without moving the cursor, shadowing the screen's (remappable) actions.
    COMPONENT_CLASSES = {"cliplist--cursor", "cliplist--reviewed", "cliplist--deleted",
                         "cliplist--edited",
                         "cliplist--malformed", "cliplist--muted", "cliplist--lowconf"}
    DEFAULT_CSS = """
    ClipList { height: 1fr; background: $surface; }
    ClipList > .cliplist--cursor { background: $primary 45%; text-style: bold; }
    ClipList > .cliplist--reviewed { color: $gsv-reviewed; }
    ClipList > .cliplist--edited { color: $gsv-edited; }
    ClipList > .cliplist--deleted { color: $gsv-deleted; text-style: strike; }
    ClipList > .cliplist--malformed { color: $error; }
    ClipList > .cliplist--muted { color: $text-muted; }
    ClipList > .cliplist--lowconf { color: $warning; }
    """

    class Clicked(Message):
        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    def __init__(self, clips: Callable[[], Sequence[Clip]], info: Callable[[Clip], ClipInfo],
                 **kw) -> None:
        super().__init__(**kw)
        self._clips = clips
        self._info = info
        self.rows: list[int] = []
        self.cursor = 0
        self._styles: dict[str, Style] | None = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

    def _style(self, name: str) -> Style:
        """Component styles, resolved once per theme/style change (not once per line)."""
        if self._styles is None:
            base = self.rich_style
            self._styles = {"": base, **{c: base + self.get_component_rich_style(c)
                                         for c in self.COMPONENT_CLASSES}}
        return self._styles[name]

    def set_rows(self, rows: list[int], cursor: int) -> None:
        self.rows = rows
        size = Size(self.size.width, len(rows))
        if size != self.virtual_size:  # a new virtual size means a layout pass
            self.virtual_size = size
        self.move_cursor(cursor, force=True)
        self.refresh()

    def move_cursor(self, row: int, force: bool = False) -> None:
        row = max(0, min(row, len(self.rows) - 1)) if self.rows else 0
        if row == self.cursor and not force:
            return
        old, self.cursor = self.cursor, row
        self.scroll_to_region(Region(0, row, 1, 1), animate=False, immediate=True)
        self.refresh_row(old)
        self.refresh_row(row)

    def refresh_row(self, row: int) -> None:
        y = row - int(self.scroll_offset.y)
        if 0 <= y < self.size.height:
            self.refresh_line(y)

    def render_line(self, y: int) -> Strip:
        row = y + int(self.scroll_offset.y)
        width = self.size.width
        base = self._style("")
        if row >= len(self.rows):
            return Strip.blank(width, base)
        pos = self.rows[row]
        c = self._clips()[pos]
        info = self._info(c)
        if c.malformed:
            st = self._style("cliplist--malformed")
        elif c.deleted:
            st = self._style("cliplist--deleted")
        elif c.reviewed:
            st = self._style("cliplist--reviewed")
        elif c.edited:
            st = self._style("cliplist--edited")
        else:
            st = base
        muted = self._style("cliplist--muted")
        conf = info.confidence
        conf_txt = "    " if conf is None else f"{conf * 100:3.0f}%"
        conf_st = self._style("cliplist--lowconf") if info.low_confidence else muted
        text = c.text.replace("\t", " ")[: width * 2]  # never measure a huge line
        segs = [Segment(f"{pos + 1:>6} ", muted),
                Segment(f"{status_glyph(c, info)} ", st),
                Segment(fmt_duration(info.duration) + " ", muted),
                Segment(conf_txt + " ", conf_st),
                Segment(text, st)]
        strip = Strip(segs).adjust_cell_length(width, base)
        if row == self.cursor:
            strip = strip.apply_style(self._style("cliplist--cursor"))
        return strip

    def on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        row = int(event.y + self.scroll_offset.y)
        if 0 <= row < len(self.rows):
            self.post_message(self.Clicked(row))
