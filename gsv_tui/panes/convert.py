"""Convert (the voice changer): name speech files or folders, optionally what they say, Run
(a detached job). Results list every file under output/converted/ beside its source, so
the two can be heard one after the other: s plays the source, p the result."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from engine.events import Result, StepError
from engine.requests import effective_settings
from gsv_tui.actions import ActionSpec, bindings
from gsv_tui.panes.base import StepPane

NEWEST = "__newest__"
OUT_FOLDER = ("output", "converted")  # the registry's output/converted/


class Pane(StepPane):
    step_id = "convert"
    hidden_fields = ("project_root", "ref_wav", "sovits_path", "hubert_dir")

    ACTION_SPECS = (
        ActionSpec("play_source", "Play the selected result's source", "s", "Convert",
                   scope="convert"),
        ActionSpec("play_result", "Play the selected result", "p", "Convert", scope="convert"),
    )
    BINDINGS = bindings(ACTION_SPECS)

    DEFAULT_CSS = """
    #convert-sources, #convert-text, #convert-ref, #convert-sovits { width: 1fr; }
    .convert-row { height: auto; }
    .convert-row Label { padding: 1 1 0 0; width: 12; }
    #convert-results { height: auto; max-height: 12; margin-top: 1; }
    #convert-now { color: $text-muted; }
    """

    def __init__(self, project, **kw: Any) -> None:  # type: ignore[no-untyped-def]
        super().__init__(project, **kw)
        self.player = None  # created on the first play (probing the sound output takes time)
        self.source_of: dict[str, str] = {}  # result (project-relative) -> its source

    # --- layout ------------------------------------------------------------------------
    def compose_extra(self) -> ComposeResult:
        from engine.synth import reference, weights

        layout = self.project.layout
        stored = effective_settings(self.project, self.step_id)
        with Horizontal(classes="convert-row"):
            yield Label("Speech")
            yield Input(placeholder="files or folders, separated by ';' (only read, never "
                                    "changed)", id="convert-sources")
        with Horizontal(classes="convert-row"):
            yield Label("It says")
            yield Input(placeholder="optional, one file only (empty: the project's ASR "
                                    "transcribes it)", id="convert-text")
        refs = reference.candidates(layout)
        with Horizontal(classes="convert-row"):
            yield Label("Reference")
            if refs:
                values = {c.wav for c in refs}
                last = stored.get("ref_wav")
                yield Select([(f"{c.seconds:4.1f} s  {c.text[:60]}", c.wav) for c in refs],
                             allow_blank=False, id="convert-ref",
                             value=last if last in values else refs[0].wav)
            else:
                yield Select([("no proofread clip of 3–10 s yet", "")], allow_blank=False,
                             id="convert-ref")
        with Horizontal(classes="convert-row"):
            yield Label("SoVITS")
            files = weights.sovits_files(layout)
            yield Select([("newest", NEWEST)] + [(p.name, layout.rel(p)) for p in reversed(files)],
                         allow_blank=False, id="convert-sovits")

    def compose(self) -> ComposeResult:
        yield from super().compose()
        with Horizontal(classes="pane-controls"):
            yield Button("Play source (s)", id="convert-play-source")
            yield Button("Play result (p)", id="convert-play-result")
        yield Label("Results in output/converted/", classes="pane-title")
        yield DataTable(id="convert-results", cursor_type="row", zebra_stripes=True)
        yield Static("", id="convert-now", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#convert-results", DataTable).add_columns("result", "seconds", "source")
        self.refresh_results()

    # --- requests ------------------------------------------------------------------------
    def fixed_fields(self) -> dict[str, Any]:
        raw = self.query_one("#convert-sources", Input).value
        sources = [str(Path(s.strip()).expanduser()) for s in raw.split(";") if s.strip()]
        if not sources:
            raise StepError("Name the speech to convert.",
                            "Type a file or folder in the Speech box (several: separate "
                            "them with ';').")
        ref = self.query_one("#convert-ref", Select).value
        sovits = self.query_one("#convert-sovits", Select).value
        return {"sources": sources, "text": self.query_one("#convert-text", Input).value,
                "ref_wav": ref if isinstance(ref, str) else "",
                "sovits_path": sovits if isinstance(sovits, str) and sovits != NEWEST else ""}

    # --- results -------------------------------------------------------------------------
    def show_result(self, result: Result) -> None:
        files = result.data.get("files") or [{}]
        self.refresh_results(select=files[-1].get("path"))

    def refresh_results(self, select: str | None = None) -> None:
        import soundfile as sf

        layout = self.project.layout
        folder = layout.root.joinpath(*OUT_FOLDER)
        found = sorted(folder.glob("*.wav"), key=lambda p: p.stat().st_mtime, reverse=True) \
            if folder.is_dir() else []
        table = self.query_one("#convert-results", DataTable)
        table.clear()
        self.source_of = {}  # from each result's note (.json beside it)
        for wav in found:
            rel = layout.rel(wav)
            try:
                seconds = f"{sf.info(str(wav)).duration:.1f}"
            except RuntimeError:
                seconds = "?"
            try:
                source = str(json.loads(wav.with_suffix(".json").read_text(encoding="utf-8"))
                             .get("source", ""))
            except (OSError, ValueError, AttributeError):
                source = ""
            self.source_of[rel] = source
            table.add_row(rel, seconds, source or "(unknown)", key=rel)
        if select and select in self.source_of:
            table.move_cursor(row=table.get_row_index(select))

    def _selected(self) -> str | None:
        table = self.query_one("#convert-results", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    # --- playback ------------------------------------------------------------------------
    @on(Button.Pressed, "#convert-play-source")
    def action_play_source(self) -> None:
        rel = self._selected()
        source = self.source_of.get(rel or "", "")
        if not source or not Path(source).is_file():
            self.app.notify("The selected result's source is not there to play "
                            "(moved or deleted?).", severity="warning")
            return
        self._play(Path(source), "source")

    @on(Button.Pressed, "#convert-play-result")
    def action_play_result(self) -> None:
        rel = self._selected()
        if rel is None:
            self.app.notify("Nothing to play yet: run the step first.", severity="warning")
            return
        self._play(self.project.layout.abs(rel), "result")

    @work(thread=True, exclusive=True, group="convert-play", exit_on_error=False)
    def _play(self, wav: Path, what: str) -> None:
        from engine.appconfig import load_config
        from engine.audio.playback import Player

        if self.player is None:
            self.player = Player(load_config().playback_backend)
        try:
            ps = self.player.play(wav)
        except (OSError, RuntimeError, ValueError) as exc:
            self.app.call_from_thread(self.app.notify, f"Cannot play {wav.name}: {exc}",
                                      severity="error")
            return
        line = (f"No sound output here: open {ps.url} ({what}) through ssh -L (gsv doctor "
                "shows how)"
                if ps.url else f"▶ {what}: {wav.name} ({ps.backend}, {ps.length:.1f} s)")
        self.app.call_from_thread(self.query_one("#convert-now", Static).update, line)

    def on_unmount(self) -> None:
        if self.player is not None:
            self.player.close()
