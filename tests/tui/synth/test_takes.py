"""The synthesize pane shows the back-check: each piece marked by its score and its number
of takes, and `t` starts a run that uses the piece's next-best take (its seed pinned)."""
from __future__ import annotations

import json

import pytest
from textual.widgets import DataTable

from engine import jobs
from engine.events import Result
from engine.synth.request import SynthRequest
from engine.synth.step import run_synthesize
from gsv_tui.app import GsvApp
from tests.engine.synth.voicekit import EN_REF
from tests.helpers.pilot import until

SIZE = (140, 50)


@pytest.mark.slow  # ~20 s on the shared 2-core box: a real synthesis + Whisper first
async def test_pieces_are_marked_and_t_picks_the_next_best_take(voice):
    from tests.engine.asr.whisper_base import whisper_base_dir

    req = SynthRequest(str(voice), text="Hello there. How are you today?", language="en",
                       ref_wav=EN_REF[0], cut_method="cut4", seed=3, device="cpu",
                       allow_download=False, output_name="checked", max_rerolls=2,
                       asr_model_dir=str(whisper_base_dir()))
    res = list(run_synthesize(req))[-1]
    assert isinstance(res, Result), res
    pieces = json.loads((voice / "output" / "checked.json").read_text())["pieces"]
    assert all(len(p["takes"]) == 3 for p in pieces)  # tiny random voice: every take fails

    app = GsvApp(voice)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("synthesize")
        await pilot.pause()
        pane = app.wizard().pane("synthesize")
        table = pane.query_one("#synth-pieces", DataTable)
        await until(pilot, lambda: table.row_count == 2, 20)
        for i, p in enumerate(pieces):
            row = table.get_row_at(i)
            assert row[1] == str(p["seed"]) and row[2] == "✗"
            assert row[3] == f"{p['score']:.2f}" and row[4] == f"{p['take'] + 1}/3"

        table.focus()
        table.move_cursor(row=1)
        await pilot.press("t")
        await until(pilot, lambda: pane.job is not None, 10)
        spec = json.loads((pane.job.run_dir / "request.json").read_text(encoding="utf-8"))
        jobs.cancel(pane.job.run_dir, grace=0.5)  # what the request makes is tested in engine
        others = [t for k, t in enumerate(pieces[1]["takes"]) if k != pieces[1]["take"]]
        best = max(others, key=lambda t: (t["passed"], t["score"]))
        # Piece 0 keeps its take (pinned when it was a re-roll, else seed + 0 again); piece 1
        # gets the other take's seed (same seed, same audio).
        kept = {"0": pieces[0]["seed"]} if pieces[0]["seed"] != 3 else {}
        assert spec["request"]["piece_seeds"] == kept | {"1": best["seed"]}
        assert spec["request"]["output_name"] == f"checked~1-{best['seed']}"
