"""'Read as a long job' in the synthesize pane: the named file becomes a detached `read`
job; its paragraph files and the joined file are listed as they appear."""
from __future__ import annotations

import pytest
from textual.widgets import Button, DataTable, Input

from engine.project import load_project
from gsv_tui.app import GsvApp
from tests.helpers.pilot import until


@pytest.mark.slow  # a detached job on the tiny voice: ~20 s on the shared box
async def test_read_button_runs_a_long_job_and_lists_its_files(voice, tmp_path):
    story = tmp_path / "story.txt"
    story.write_text("First paragraph here.\n\nSecond one, a bit longer. It ends here.\n",
                     encoding="utf-8")
    app = GsvApp(voice)
    async with app.run_test(size=(140, 50)) as pilot:
        app.goto_step("synthesize")
        await pilot.pause()
        pane = app.wizard().pane("synthesize")
        pane.query_one("#synth-file", Input).value = str(story)
        pane.query_one("#knob-seed").value = "4"
        pane.query_one("#synth-read", Button).press()
        await until(pilot, lambda: pane.job is not None and pane.job.step == "read", 10)
        await until(pilot, lambda: load_project(voice).step("read").status == "done", 120)
        results = pane.query_one("#synth-results", DataTable)
        await until(pilot, lambda: results.row_count == 3, 10)
        listed = {str(results.coordinate_to_cell_key((i, 0)).row_key.value)
                  for i in range(results.row_count)}
        assert listed == {"output/long/story/story-001.wav", "output/long/story/story-002.wav",
                          "output/long/story/story.wav"}
        assert pane.job.state == "done"


async def test_try_refs_button_starts_the_refs_action(voice):
    import json

    from textual.widgets import TextArea

    from engine import jobs

    app = GsvApp(voice)
    async with app.run_test(size=(140, 50)) as pilot:
        app.goto_step("synthesize")
        await pilot.pause()
        pane = app.wizard().pane("synthesize")
        pane.query_one("#synth-text", TextArea).load_text("Pick my voice.\nSecond line.")
        pane.query_one("#synth-refs", Button).press()
        await until(pilot, lambda: pane.job is not None and pane.job.step == "refs", 10)
        spec = json.loads((pane.job.run_dir / "request.json").read_text(encoding="utf-8"))
        jobs.cancel(pane.job.run_dir, grace=0.5)  # what it makes is tested in tests/engine/synth
        assert spec["target"] == "engine.synth.refrank:run_try_refs"
        assert spec["request"]["text"] == "Pick my voice." and spec["request"]["top"] == 5
        assert spec["request"]["language"] == "en"
