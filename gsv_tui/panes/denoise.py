"""Clean (optional): the built-in spectral gate, or a chain of the user's UVR5 models (any
family, or a preset). After a run, a few clips can be heard before and after (the loudest
stretch of each cleaned file, b / a) with the estimated SNR of each file before and after."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Static

from engine.events import Result
from gsv_tui.actions import ActionSpec, bindings
from gsv_tui.panes.base import StepPane


class CompareReady(Message):
    """The worker measured the before/after pairs (engine.audio.separation.compare)."""

    def __init__(self, pairs: list) -> None:
        super().__init__()
        self.pairs = pairs


class Pane(StepPane):
    step_id = "denoise"
    hidden_fields = ("project_root", "source", "models")

    ACTION_SPECS = (
        ActionSpec("play_before", "Play the selected clip before cleaning", "b", "Clean",
                   scope="denoise"),
        ActionSpec("play_after", "Play the selected clip after cleaning", "a", "Clean",
                   scope="denoise"),
    )
    BINDINGS = bindings(ACTION_SPECS)

    DEFAULT_CSS = """
    #clean-compare { height: auto; max-height: 8; margin-top: 1; }
    #clean-now { color: $text-muted; }
    """

    def __init__(self, project, **kw: Any) -> None:  # type: ignore[no-untyped-def]
        super().__init__(project, **kw)
        self.player = None  # made on the first play (probing the sound output takes time)
        self.pairs: list = []

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield DataTable(id="clean-compare", cursor_type="row", zebra_stripes=True)
        with Horizontal(classes="pane-controls"):
            yield Button("Before (b)", id="clean-play-before")
            yield Button("After (a)", id="clean-play-after")
        yield Static("", id="clean-now", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#clean-compare", DataTable).add_columns(
            "file", "clip", "SNR before", "SNR after", "gain")
        self.measure()

    def show_result(self, result: Result) -> None:
        self.measure()

    @work(thread=True, exclusive=True, group="clean-compare", exit_on_error=False)
    def measure(self) -> None:
        from engine.audio.separation.compare import compare

        self.post_message(CompareReady(compare(self.project.root)))

    @on(CompareReady)
    def _compare_ready(self, message: CompareReady) -> None:
        self.pairs = message.pairs
        table = self.query_one("#clean-compare", DataTable)
        table.clear()
        for p in self.pairs:
            table.add_row(p.name, f"{p.start:.1f}–{p.end:.1f} s", f"{p.snr_before:.1f} dB",
                          f"{p.snr_after:.1f} dB", f"{p.gain:+.1f} dB")
        if self.pairs:
            mean = sum(p.gain for p in self.pairs) / len(self.pairs)
            self.query_one("#clean-now", Static).update(
                f"Estimated SNR gain {mean:+.1f} dB over {len(self.pairs)} file(s); "
                "b / a play the selected clip before / after")

    def _selected(self):  # noqa: ANN202 - a compare.ClipPair or None
        table = self.query_one("#clean-compare", DataTable)
        if not self.pairs or table.cursor_row is None or table.cursor_row >= len(self.pairs):
            return None
        return self.pairs[table.cursor_row]

    @on(Button.Pressed, "#clean-play-before")
    def action_play_before(self) -> None:
        self._play_pair("before")

    @on(Button.Pressed, "#clean-play-after")
    def action_play_after(self) -> None:
        self._play_pair("after")

    def _play_pair(self, which: str) -> None:
        pair = self._selected()
        if pair is None:
            self.app.notify("Nothing to compare yet: run Clean first.", severity="warning")
            return
        path = self.project.layout.abs(pair.before if which == "before" else pair.after)
        self._play(path, pair.start, pair.end, which)

    @work(thread=True, exclusive=True, group="clean-play", exit_on_error=False)
    def _play(self, wav: Path, start: float, end: float, which: str) -> None:
        from engine.appconfig import load_config
        from engine.audio.playback import Player

        if self.player is None:
            self.player = Player(load_config().playback_backend)
        try:
            ps = self.player.play(wav, start=start, end=end)
        except (OSError, RuntimeError, ValueError) as exc:
            self.app.call_from_thread(self.app.notify, f"Cannot play {wav.name}: {exc}",
                                      severity="error")
            return
        line = (f"No sound output here: open {ps.url} ({which}) through ssh -L (gsv doctor "
                "shows how)" if ps.url
                else f"▶ {which}: {wav.name} {start:.1f}–{end:.1f} s ({ps.backend})")
        self.app.call_from_thread(self.query_one("#clean-now", Static).update, line)

    def on_unmount(self) -> None:
        if self.player is not None:
            self.player.close()
