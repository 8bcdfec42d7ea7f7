"""Synthesize: pick a reference among the proofread clips (3–10 s), type or load the text,
Run (a detached job, as every step). Results list every wav under output/ with a play key;
the pieces of the selected result can be re-rolled one at a time (new seed for that piece
only), or set to another take the ASR back-check made (each piece is marked by its
score). More jobs start here: listening to every checkpoint, the take-home export, a long
text read as a resumable job, and the top 5 suggested references reading one sentence."""
from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, Select, Static, TextArea

from engine.events import Result, StepError
from engine.requests import effective_settings
from gsv_tui.actions import ActionSpec, bindings
from gsv_tui.panes.base import StepPane

NEWEST = "__newest__"


class Pane(StepPane):
    step_id = "synthesize"
    hidden_fields = ("project_root", "text", "ref_wav", "ref_text", "ref_language",
                     "gpt_path", "sovits_path", "piece_seeds", "output_name", "bert_dir",
                     "hubert_dir")

    ACTION_SPECS = (
        ActionSpec("play", "Play the selected wav", "p", "Synthesize", scope="synthesize"),
        ActionSpec("reroll", "Re-roll the selected piece", "r", "Synthesize", scope="synthesize"),
        ActionSpec("take", "Use the selected piece's next-best take", "t", "Synthesize",
                   scope="synthesize"),
    )
    BINDINGS = bindings(ACTION_SPECS)

    DEFAULT_CSS = """
    #synth-text { height: 6; border: round $panel; }
    #synth-ref, #synth-gpt, #synth-sovits { width: 1fr; }
    .synth-row { height: auto; }
    .synth-row Label { padding: 1 1 0 0; width: 12; }
    #synth-file { width: 1fr; }
    #synth-results, #synth-pieces { height: auto; max-height: 12; margin-top: 1; }
    #synth-now { color: $text-muted; }
    """

    def __init__(self, project, **kw: Any) -> None:  # type: ignore[no-untyped-def]
        super().__init__(project, **kw)
        self.player = None  # created on the first play (probing the sound output takes time)
        self.sidecar: dict | None = None  # the selected result's request and pieces

    # --- layout ------------------------------------------------------------------------
    def compose_extra(self) -> ComposeResult:
        from engine.synth import reference, weights

        layout = self.project.layout
        stored = effective_settings(self.project, self.step_id)
        refs = reference.candidates(layout)
        opts = [(f"{c.seconds:4.1f} s  {c.text[:60]}", c.wav) for c in refs]
        last = stored.get("ref_wav")
        with Horizontal(classes="synth-row"):
            yield Label("Reference")
            if opts:
                yield Select(opts, allow_blank=False, id="synth-ref",
                             value=last if last in {c.wav for c in refs} else refs[0].wav)
            else:
                yield Select([("no proofread clip of 3–10 s yet", "")], allow_blank=False,
                             id="synth-ref")
        for kind, files in (("GPT", weights.gpt_files(layout)),
                            ("SoVITS", weights.sovits_files(layout))):
            with Horizontal(classes="synth-row"):
                yield Label(kind)
                options = [("newest", NEWEST)] + [(p.name, layout.rel(p)) for p in reversed(files)]
                yield Select(options, allow_blank=False, id=f"synth-{kind.lower()}")
        yield Label("Text to speak (cut into pieces by punctuation, see 'Cut method')")
        yield TextArea(self._last_text(), id="synth-text")
        with Horizontal(classes="synth-row"):
            yield Label("Text file")
            yield Input(placeholder="a UTF-8 .txt file to load into the text box", id="synth-file")
            yield Button("Load", id="synth-load")
            yield Button("Read as a long job", id="synth-read")

    def compose(self) -> ComposeResult:
        yield from super().compose()
        with Horizontal(classes="pane-controls"):
            yield Button("Listen to checkpoints", id="synth-listen")
            yield Button("Export bundle", id="synth-export")
            yield Button("Try the top 5 references", id="synth-refs")
        yield Label("Results (p: play)", classes="pane-title")
        yield DataTable(id="synth-results", cursor_type="row", zebra_stripes=True)
        yield Label("Pieces of the selected result (✓/✗ back-check; r: re-roll one, "
                    "t: use its next-best take)", id="synth-pieces-title")
        yield DataTable(id="synth-pieces", cursor_type="row", zebra_stripes=True)
        yield Static("", id="synth-now", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self._listed: set[str] = set()
        # A long reading writes a file per paragraph as it goes: list them as they appear,
        # so the first can be played while the rest are made.
        self.set_interval(2.0, self._watch_long)
        self.query_one("#synth-results", DataTable).add_columns("file", "seconds")
        self.query_one("#synth-pieces", DataTable).add_columns("#", "seed", "ok", "score",
                                                               "takes", "seconds", "text")
        self.refresh_results()

    def _last_text(self) -> str:
        """The text of the newest result (texts are per-run inputs, not stored settings)."""
        from engine.synth.step import sidecar_of

        out = self.project.layout.output_dir
        wavs = sorted(out.glob("*.wav"), key=lambda p: p.stat().st_mtime, reverse=True)
        for wav in wavs[:1]:
            try:
                doc = json.loads(sidecar_of(wav).read_text(encoding="utf-8"))
                return str(doc.get("request", {}).get("text", ""))
            except (OSError, json.JSONDecodeError, AttributeError):
                pass
        return ""

    # --- requests ------------------------------------------------------------------------
    def _ref(self) -> str:
        value = self.query_one("#synth-ref", Select).value
        return value if isinstance(value, str) else ""

    def _weights(self) -> dict[str, str]:
        out = {}
        for kind, field in (("gpt", "gpt_path"), ("sovits", "sovits_path")):
            value = self.query_one(f"#synth-{kind}", Select).value
            out[field] = value if isinstance(value, str) and value != NEWEST else ""
        return out

    def _text(self) -> str:
        return self.query_one("#synth-text", TextArea).text

    def fixed_fields(self) -> dict[str, Any]:
        text = self._text()
        if not text.strip():
            raise StepError("There is no text to speak.", "Type what the voice should say.")
        return {"text": text, "ref_wav": self._ref(), **self._weights()}

    @on(Button.Pressed, "#synth-listen")
    def listen(self) -> None:
        # Its own run (status, lock, settings): the first line is the test sentence.
        first = self._text().strip().split("\n")[0]
        self.start("listen", {"text": first, "language": self._language(), "ref_wav": self._ref()})

    @on(Button.Pressed, "#synth-refs")
    def try_refs(self) -> None:
        # The best-ranked proofread clips each read the first line (output/references/).
        first = self._text().strip().split("\n")[0]
        self.start("refs", {"text": first, "language": self._language(), **self._weights()})

    @on(Button.Pressed, "#synth-export")
    def export(self) -> None:
        self.start("export", {"ref_wav": self._ref(), **self._weights()})

    def _language(self) -> str:
        value = self.query_one("#knob-language", Select).value
        return value if isinstance(value, str) else "zh"

    @on(Button.Pressed, "#synth-read")
    def read_long(self) -> None:
        """The file named (else the text box) as a resumable long-text job with this form's
        settings: one file per paragraph under output/long/<name>/, listed as they finish."""
        from gsv_tui.widgets.settings_form import SettingsForm

        raw = self.query_one("#synth-file", Input).value.strip()
        if raw:
            source = {"text_file": str(Path(raw).expanduser().resolve()), "text": ""}
        elif self._text().strip():
            source = {"text": self._text(), "text_file": ""}
        else:
            self.app.notify("Name a text file or type the text to read.", severity="warning")
            return
        values = dict(self.query_one(SettingsForm).values())
        self.start("read", values | source | {"ref_wav": self._ref(), **self._weights()})

    @on(Button.Pressed, "#synth-load")
    def load_file(self) -> None:
        raw = self.query_one("#synth-file", Input).value.strip()
        try:
            text = Path(raw).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.app.notify(f"Cannot read {raw or 'the file'}: {exc}", severity="error")
            return
        self.query_one("#synth-text", TextArea).load_text(text)

    # --- results -------------------------------------------------------------------------
    def show_result(self, result: Result) -> None:
        self.refresh_results(select=result.data.get("path"))

    def refresh_results(self, select: str | None = None) -> None:
        out = self.project.layout.output_dir
        # Spoken texts, checkpoint readings, long readings (per paragraph and joined); not
        # the clips inside export bundles.
        found = [*out.glob("*.wav"), *(out / "checkpoints").glob("*.wav"),
                 *(out / "long").glob("*/*.wav"), *(out / "references").glob("*.wav")]
        self._listed = {p.name for p in found}
        files = sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)
        table = self.query_one("#synth-results", DataTable)
        table.clear()
        import soundfile as sf

        for p in files:
            rel = self.project.layout.rel(p)
            try:
                seconds = f"{sf.info(str(p)).duration:.1f}"
            except RuntimeError:
                seconds = "?"
            table.add_row(rel, seconds, key=rel)
        if select and select in {self.project.layout.rel(p) for p in files}:
            table.move_cursor(row=table.get_row_index(select))
        self._show_pieces()

    def _watch_long(self) -> None:
        if self.job is None or not self.job.active or self.job.step != "read":
            return
        now = {p.name for p in (self.project.layout.output_dir / "long").glob("*/*.wav")}
        if not now <= self._listed:
            self.refresh_results()

    def _selected_wav(self) -> Path | None:
        table = self.query_one("#synth-results", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.project.layout.abs(str(key))

    @on(DataTable.RowHighlighted, "#synth-results")
    def _result_highlighted(self) -> None:
        self._show_pieces()

    def _show_pieces(self) -> None:
        from engine.synth.step import sidecar_of

        pieces = self.query_one("#synth-pieces", DataTable)
        pieces.clear()
        wav = self._selected_wav()
        self.sidecar = None
        if wav is None or not sidecar_of(wav).is_file():
            return
        try:
            self.sidecar = json.loads(sidecar_of(wav).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return
        from engine.synth.backcheck import mark

        for i, p in enumerate(self.sidecar.get("pieces", [])):
            takes = p.get("takes", [])
            score = f"{p['score']:.2f}" if "score" in p else ""
            count = f"{p.get('take', 0) + 1}/{len(takes)}" if takes else ""
            pieces.add_row(str(i), str(p.get("seed")), mark(p), score, count,
                           f"{p.get('seconds', 0):.1f}", str(p.get("text", ""))[:60])

    # --- actions -------------------------------------------------------------------------
    def action_play(self) -> None:
        wav = self._selected_wav()
        if wav is None:
            self.app.notify("Nothing to play yet: run the step first.", severity="warning")
            return
        self._play(wav)

    @work(thread=True, exclusive=True, group="synth-play", exit_on_error=False)
    def _play(self, wav: Path) -> None:
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
        line = (f"No sound output here: open {ps.url} through ssh -L (gsv doctor shows how)"
                if ps.url else f"▶ {wav.name} ({ps.backend}, {ps.length:.1f} s)")
        self.app.call_from_thread(self.query_one("#synth-now", Static).update, line)

    def action_reroll(self) -> None:
        wav = self._selected_wav()
        table = self.query_one("#synth-pieces", DataTable)
        if wav is None or self.sidecar is None or not table.row_count:
            self.app.notify("Select a result made by Run to re-roll one of its pieces.",
                            severity="warning")
            return
        piece = table.cursor_row
        self._respeak(wav, piece, secrets.randbelow(2**31 - 1))

    def _respeak(self, wav: Path, piece: int, seed: int) -> None:
        """A new result: the same text, every piece as kept, ``piece`` read with ``seed``."""
        from engine.synth.step import reroll_request

        if self.sidecar is not None and self.sidecar.get("request", {}).get("text_file") \
                or "long" in wav.relative_to(self.project.layout.output_dir).parts[:1]:
            self.app.notify("Re-rolling one piece of a long reading is not offered here: read "
                            "it again with gsv synthesize --long --reroll PIECE:SEED (into a "
                            "new folder).", severity="warning")
            return
        name = f"{wav.stem.split('~')[0]}~{piece}-{seed}"
        self.start(self.step_id, request=reroll_request(self.sidecar, piece, seed, name))

    def action_take(self) -> None:
        """The best of the piece's other takes (same seed, same audio): for when the
        back-check's favourite is not the user's."""
        wav = self._selected_wav()
        table = self.query_one("#synth-pieces", DataTable)
        if wav is None or self.sidecar is None or not table.row_count:
            self.app.notify("Select a result made by Run to pick another take.",
                            severity="warning")
            return
        piece = self.sidecar["pieces"][table.cursor_row]
        others = [t for k, t in enumerate(piece.get("takes", [])) if k != piece.get("take", 0)]
        if not others:
            self.app.notify("This piece has no other take: re-roll it with r.",
                            severity="warning")
            return
        best = max(others, key=lambda t: (t.get("passed", False), t.get("score", 0)))
        self._respeak(wav, table.cursor_row, int(best["seed"]))

    def on_unmount(self) -> None:
        if self.player is not None:
            self.player.close()
