"""The trained weights as a table: kind, epoch, step, when, size, and which one Synthesize
uses. Rows are keyed by the file's project-relative path."""
from __future__ import annotations

import datetime as dt

from textual.widgets import DataTable

from engine.train.exports import Weights


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} kB"


class CheckpointList(DataTable):
    DEFAULT_CSS = """
    CheckpointList { height: auto; max-height: 14; }
    """

    def __init__(self, **kw) -> None:  # noqa: ANN003
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self.weights: dict[str, Weights] = {}

    def on_mount(self) -> None:
        self.add_columns("model", "epoch", "step", "saved", "size", "file", "synthesis")

    def show(self, weights: list[Weights], chosen: dict[str, str]) -> None:
        """Redraw only when something changed (a redraw moves the cursor back)."""
        key = [(w.rel, w.mtime, w.bytes, chosen.get(w.kind) == w.rel) for w in weights]
        if key == getattr(self, "_shown", None):
            return
        self._shown = key
        row = self.cursor_row
        self.clear()
        self.weights = {w.rel: w for w in weights}
        for w in weights:
            when = dt.datetime.fromtimestamp(w.mtime).strftime("%Y-%m-%d %H:%M")
            mark = "✔ used" if chosen.get(w.kind) == w.rel else ""
            self.add_row(w.kind, str(w.epoch), str(w.step) if w.step else "—", when,
                         _size(w.bytes), w.rel.rsplit("/", 1)[-1], mark, key=w.rel)
        if weights:
            self.move_cursor(row=min(row, len(weights) - 1))

    def selected(self) -> Weights | None:
        if not self.weights or self.cursor_row < 0:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        return self.weights.get(key)
