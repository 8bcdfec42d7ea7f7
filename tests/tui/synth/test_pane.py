"""The synthesize pane driven with Pilot: reference picker from the proofread clips, text,
Run as a detached job, the result listed and played, one piece re-rolled."""
from __future__ import annotations

import json

from textual.widgets import Button, DataTable, Select, Static, TextArea

from engine import jobs
from engine.audio.playback import Player
from engine.project import load_project
from gsv_tui.app import GsvApp
from tests.engine.synth.voicekit import EN_REF, SHORT, ZH_REF
from tests.helpers.pilot import until

SIZE = (120, 50)


async def _until(pilot, cond, timeout=90.0):
    await until(pilot, cond, timeout, step=0.2)


async def test_pane_runs_plays_and_rerolls_a_piece(voice, tmp_path):
    app = GsvApp(voice)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("synthesize")
        await pilot.pause()
        pane = app.wizard().pane("synthesize")
        ref = pane.query_one("#synth-ref", Select)
        offered = [value for _, value in ref._options]
        assert offered == [EN_REF[0], ZH_REF[0]] and SHORT[0] not in offered  # 3–10 s only
        assert ref.value == EN_REF[0]
        assert pane.query_one("#synth-gpt", Select).value == "__newest__"

        pane.query_one("#synth-text", TextArea).load_text("Hello there. How are you today?")
        assert pane.query_one("#knob-language", Select).value == "en"  # the project's
        pane.query_one("#knob-seed").value = "11"
        pane.query_one("#knob-cut_method", Select).value = "cut4"
        pane.query_one("#run", Button).press()
        await _until(pilot, lambda: load_project(voice).step("synthesize").status == "done")
        results = pane.query_one("#synth-results", DataTable)
        await _until(pilot, lambda: results.row_count == 1)
        pieces = pane.query_one("#synth-pieces", DataTable)
        assert pieces.row_count == 2
        assert [pieces.get_row_at(i)[1] for i in range(2)] == ["11", "12"]

        # Export: the bundle lands under output/, and its reference copy is not a "result".
        pane.query_one("#synth-export", Button).press()
        await _until(pilot, lambda: (voice / "output" / "voice-export" / "voice.toml").is_file()
                     and not pane.job.active, timeout=30)
        assert (voice / "output" / "voice-export.zip").is_file()
        assert results.row_count == 1

        # Play: no sound card here, so the loopback server answers with a URL to open.
        pane.player = Player(backend="http", workdir=tmp_path / "play")
        pane.player._backend = "http"
        results.focus()
        await pilot.press("p")
        now = pane.query_one("#synth-now", Static)
        await _until(pilot, lambda: "http://127.0.0.1" in str(now.render()), timeout=20)

        # Re-roll the second piece: a job re-speaking the same text with a new seed for
        # piece 1 only (what that request produces is tested in tests/engine/synth).
        first = pane.job.id
        pieces.focus()
        pieces.move_cursor(row=1)
        await pilot.press("r")
        await _until(pilot, lambda: pane.job is not None and pane.job.id != first, timeout=10)
        spec = json.loads((pane.job.run_dir / "request.json").read_text(encoding="utf-8"))
        jobs.cancel(pane.job.run_dir, grace=0.5)  # its output is not needed here
        req = spec["request"]
        assert spec["target"] == "engine.synth.step:run_synthesize"
        assert req["seed"] == 11 and req["text"] == "Hello there. How are you today?"
        assert list(req["piece_seeds"]) == ["1"] and req["piece_seeds"]["1"] != 12
        assert req["output_name"].endswith(f"~1-{req['piece_seeds']['1']}")
