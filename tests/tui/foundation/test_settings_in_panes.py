"""The panes show what `gsv <step>` would use (stored settings over the project's defaults),
and what a pane runs is stored for the CLI: one rule, both surfaces."""
from __future__ import annotations

import json

from textual.widgets import Input, Select

from engine.project import create_project, load_project, set_step_settings
from gsv_tui.app import GsvApp
from gsv_tui.cli import main
from tests.helpers.pilot import until

SIZE = (120, 40)
STORED = {"import": ("peak_min_db", -12.0), "denoise": ("strength", 0.5),
          "slice": ("max_clip_s", 3.0), "asr": ("beam_size", 2), "format": ("device", "cpu"),
          "train": ("gpt_epochs", 4), "synthesize": ("top_k", 7)}


async def test_panes_show_the_stored_settings_and_project_defaults(tmp_path):
    p = create_project(tmp_path / "p", "Voix", language="ja", slug="voix")
    for step, (knob, value) in STORED.items():
        set_step_settings(p.root, step, {knob: value})
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        for step, (knob, value) in STORED.items():
            app.goto_step(step)
            await pilot.pause()
            widget = app.wizard().pane(step).query_one(f"#knob-{knob}")
            want = str(value) if isinstance(widget, Input) else value
            assert widget.value == want, (step, knob, widget.value)
        # Not stored: the project's language, exactly as `gsv asr` would use it.
        app.goto_step("asr")
        await pilot.pause()
        assert app.wizard().pane("asr").query_one("#knob-language", Select).value == "ja"


async def test_a_pane_run_is_what_the_cli_uses_next(tmp_path, capsys):
    p = create_project(tmp_path / "p", "Voice", language="en", slug="voice")
    (p.root / "audio" / "raw").mkdir(parents=True)
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("slice")
        await pilot.pause()
        pane = app.wizard().pane("slice")
        pane.query_one("#knob-min_length_ms", Input).value = "2000"
        pane.query_one("#run").press()
        await until(pilot, lambda: pane.job is not None and not pane.job.active, timeout=60)
    assert load_project(p.root).settings["slice"] == {"min_length_ms": 2000}
    capsys.readouterr()
    assert main(["slice", "-C", str(p.root), "--print-request"]) == 0
    assert json.loads(capsys.readouterr().out)["min_length_ms"] == 2000
