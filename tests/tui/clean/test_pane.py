"""The Clean pane driven with Pilot: a chain with a tiny VR model (dereverb → de-echo
preset) runs as a detached job from the pane, then the before/after table shows each file's
estimated SNR before and after, and b / a play the same stretch of the raw and the clean
file through the proofreader's player."""
from __future__ import annotations

import numpy as np
import soundfile as sf
from textual.widgets import Button, DataTable, Static

from engine.audio.denoise_step import DenoiseRequest
from engine.audio.playback import Player
from engine.project import create_project, load_project
from engine.requests import remember
from gsv_tui.app import GsvApp
from tests.engine.audio.separation.tiny_vr import save_vr
from tests.engine.audio.test_denoise import _onnx_model
from tests.helpers.pilot import until

SIZE = (120, 60)


def _noisy_tone(path, sr=44100, seconds=4.0):
    t = np.arange(int(seconds * sr)) / sr
    tone = 0.4 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    x = tone + 0.03 * np.random.default_rng(0).standard_normal(t.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x.astype(np.float32), sr)


async def test_pane_runs_a_vr_chain_and_compares_before_and_after(tmp_path, gsv_home):
    root = tmp_path / "p"
    project = create_project(root, "P", slug="p")
    _noisy_tone(root / "audio/raw/take.wav")
    uvr = gsv_home / "data" / "models" / "uvr5"
    _onnx_model(uvr / "onnx_dereverb_By_FoxJoy" / "vocals.onnx", "identity")
    save_vr(uvr / "VR-DeEchoNormal.pth", "new")
    remember(project, "denoise", DenoiseRequest(
        project_root=str(root), method="models", preset="dereverb-deecho", device="cpu",
        mdx_n_fft=256, mdx_hop=64, mdx_output="target"))
    app = GsvApp(root)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("denoise")
        await pilot.pause()
        pane = app.wizard().pane("denoise")
        now = pane.query_one("#clean-now", Static)
        pane.query_one("#clean-play-before", Button).press()  # nothing cleaned yet
        await pilot.pause()
        assert pane.pairs == []
        pane.query_one("#run", Button).press()
        await until(pilot, lambda: pane.job is not None, 10, step=0.2)
        await until(pilot, lambda: load_project(root).step("denoise").status == "done",
                    180, step=0.3)
        table = pane.query_one("#clean-compare", DataTable)
        await until(pilot, lambda: table.row_count == 1, 30, step=0.2)
        name, clip, before, after, gain = table.get_row_at(0)
        assert name == "take.wav" and before.endswith("dB") and gain.endswith("dB")
        p = pane.pairs[0]
        assert p.before == "audio/raw/take.wav" and p.after == "audio/clean/take.wav"
        assert 0 <= p.start < p.end <= 4.0 and abs(p.gain - (p.snr_after - p.snr_before)) < 1e-9
        assert "Estimated SNR gain" in str(now.render())
        # no sound card here: the loopback server answers with a URL, per stretch
        pane.player = Player(backend="http", workdir=tmp_path / "play")
        table.focus()
        await pilot.press("b")
        await until(pilot, lambda: "(before)" in str(now.render()), 20, step=0.2)
        await pilot.press("a")
        await until(pilot, lambda: "(after)" in str(now.render()), 20, step=0.2)
