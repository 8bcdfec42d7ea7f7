"""The Convert pane driven with Pilot: speech named, Run as a detached job, the result
listed beside its source, and both played one after the other."""
from __future__ import annotations

import json

import soundfile as sf
from textual.widgets import Button, DataTable, Input, Select, Static

from engine.audio.playback import Player
from engine.project import load_project
from gsv_tui.app import GsvApp
from tests.engine.synth.voicekit import EN_REF
from tests.helpers.pilot import until
from tests.helpers.speech import speak

SIZE = (120, 50)
TEXT = "Converted from the wizard."


async def test_pane_converts_as_a_job_and_plays_source_and_result(voice, tmp_path):
    src = speak(TEXT, tmp_path / "in" / "take.wav")
    app = GsvApp(voice)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("convert")
        await pilot.pause()
        pane = app.wizard().pane("convert")
        assert pane.query_one("#convert-ref", Select).value == EN_REF[0]
        assert pane.query_one("#knob-language", Select).value == "en"  # the project's

        pane.query_one("#run", Button).press()  # nothing named yet: refused, no job
        await pilot.pause()
        assert pane.job is None

        pane.query_one("#convert-sources", Input).value = str(src.parent)
        pane.query_one("#convert-text", Input).value = TEXT
        pane.query_one("#knob-device", Select).value = "cpu"
        pane.query_one("#run", Button).press()
        await until(pilot, lambda: pane.job is not None, 10, step=0.2)
        spec = json.loads((pane.job.run_dir / "request.json").read_text(encoding="utf-8"))
        assert spec["target"] == "engine.convert.step:run_convert"
        assert spec["request"]["sources"] == [str(src.parent)]
        await until(pilot, lambda: load_project(voice).step("convert").status == "done",
                    120, step=0.2)
        results = pane.query_one("#convert-results", DataTable)
        await until(pilot, lambda: results.row_count == 1, 20, step=0.2)
        rel, seconds, source = results.get_row_at(0)
        assert rel == "output/converted/take.wav" and source == str(src)
        assert abs(float(seconds) - sf.info(str(src)).duration) <= 0.1

        # No sound card here: the loopback server answers with a URL to open, per file.
        pane.player = Player(backend="http", workdir=tmp_path / "play")
        pane.player._backend = "http"
        now = pane.query_one("#convert-now", Static)
        results.focus()
        await pilot.press("s")
        await until(pilot, lambda: "(source)" in str(now.render()), 20, step=0.2)
        await pilot.press("p")
        await until(pilot, lambda: "(result)" in str(now.render()), 20, step=0.2)
