"""Every step's pane loads and composes; real steps run from their panes as detached jobs."""
from __future__ import annotations


import pytest
from textual.widgets import Button, DataTable, Input

from engine.project import create_project, load_project
from engine.steps import STEP_IDS
from gsv_tui.app import GsvApp
from gsv_tui.panes import pane_class
from gsv_tui.panes.generic import GenericPane
from tests.helpers.pilot import until as _until
from tests.helpers.speech import speak

SIZE = (120, 40)


@pytest.mark.parametrize("step_id", STEP_IDS)
def test_pane_module_loads(step_id):
    cls, error = pane_class(step_id)
    assert error == ""
    assert cls is GenericPane or cls.step_id == step_id


async def test_every_pane_composes_in_the_wizard(tmp_path):
    p = create_project(tmp_path / "p", "Panes")
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        for step in STEP_IDS:
            app.goto_step(step)
            await pilot.pause()
            pane = app.wizard().pane(step)
            assert pane is not None and pane.display
            assert not getattr(pane, "error", "")



async def test_import_runs_from_its_pane_and_fills_the_report(tmp_path):
    src = speak("Hello there, this is a recording for the import step.", tmp_path / "in" / "take one.wav")
    p = create_project(tmp_path / "p", "Import from TUI")
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("import")
        await pilot.pause()
        pane = app.wizard().pane("import")
        pane.query_one("#import-sources", Input).value = str(src.parent)
        pane.query_one("#run", Button).press()
        await _until(pilot, lambda: load_project(p.root).step("import").status == "done")
        await _until(pilot, lambda: pane.query_one("#import-table", DataTable).row_count == 1)
        assert src.exists()  # the source is untouched
        assert list(p.layout.raw_dir.glob("*.wav"))


async def test_bad_settings_are_refused_before_a_job_starts(tmp_path):
    p = create_project(tmp_path / "p", "Bad settings")
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("slice")
        await pilot.pause()
        pane = app.wizard().pane("slice")
        pane.query_one("#knob-threshold_db", Input).value = "12"
        pane.query_one("#run", Button).press()
        await pilot.pause()
        assert pane.job is None
        assert not (p.root / "runs").exists()
        assert any("Silence threshold (dB)" in str(n.message) for n in app._notifications)
