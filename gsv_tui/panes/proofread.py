"""The wizard's Proofread pane: where the transcript stands, and the key to open the editor.

The editor itself is :class:`gsv_tui.proofread.screen.ProofreadScreen`, pushed over the
wizard. Every edit is already on disk when it closes; closing records the step through
:func:`engine.dataset.proofread.status.record_session`, as ``gsv proofread`` does.
"""
from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Static

from engine.appconfig import load_config
from gsv_tui.panes.base import StepPane


class Pane(StepPane):
    step_id: ClassVar[str] = "proofread"
    has_jobs: ClassVar[bool] = False  # the editor works in place; there is no job to stop

    def compose_extra(self) -> ComposeResult:
        yield Static("", id="proofread-summary", markup=False)
        yield Button("Open the editor", id="open-editor", variant="primary")

    def on_mount(self) -> None:
        super().on_mount()
        self._summarise()

    def _summarise(self) -> None:
        lay = self.project.layout
        box = self.query_one("#proofread-summary", Static)
        if not lay.list_file.exists():
            box.update("No transcript yet: run Transcribe first.")
            self.query_one("#open-editor", Button).disabled = True
            return
        from engine.dataset.listfile import read_document
        doc = read_document(lay.list_file)
        bad = len(doc.malformed)
        box.update(f"{len(doc.entries)} clips in {lay.rel(lay.list_file)}"
                   + (f", {bad} malformed line(s) (kept, flagged in the editor)" if bad else "")
                   + ".\nPress the button (or the run-step key) to listen and fix texts; "
                   "every change is saved at once.")

    @on(Button.Pressed, "#open-editor")
    def _open_pressed(self) -> None:
        self.run_step()

    def run_step(self) -> None:  # the wizard's "run" key opens the editor
        from engine.dataset.proofread.locks import ListBusy
        from engine.dataset.proofread.session import ProofSession
        from engine.dataset.proofread.source import SourceError, paths_for
        from gsv_tui.proofread.screen import ProofreadScreen

        try:
            session = ProofSession(paths_for(self.project.root),
                                   who="the gsv app's Proofread step")
        except ListBusy as e:
            self.app.notify(f"{e.reason} {e.hint}", title="The editor is open elsewhere",
                            severity="error")
            return
        except (SourceError, OSError) as e:
            self.app.notify(str(e), title="Cannot open the transcript", severity="error")
            return
        if session.taken_in:
            self.app.notify(f"{session.taken_in} line(s) changed outside the editor were "
                            "taken in as edits")
        cfg = load_config()

        def closed(_: object) -> None:
            self._record(session)

        self.app.push_screen(ProofreadScreen(session, backend=cfg.playback_backend,
                                             keymap=dict(cfg.keymap)), closed)

    def stop_step(self) -> None:
        pass

    def _record(self, session) -> None:  # type: ignore[no-untyped-def]
        from engine.dataset.proofread.status import record_session
        from engine.project import ProjectError

        session.close()
        try:
            record_session(session)
        except ProjectError as e:
            self.app.notify(str(e), title="Edits saved; the step status was not",
                            severity="error")
        self.refresh_status()
        self._summarise()
