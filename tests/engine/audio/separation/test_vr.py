"""VR architecture: tiny random models in UVR's real .pth format (torch.save'd state dicts,
UVR key names), both network kinds, loaded and run; the multi-band layout; the voice stem;
bad files refused with a sentence."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.audio.separation import segment, vr_spec
from engine.audio.separation.base import Separator
from engine.audio.separation.vr import VrOptions, load_vr
from engine.audio.separation.vr_params import builtin
from engine.events import StepError

from .tiny_vr import save_vr

SR = 44100


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _wave(seconds: float, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(seed)
    x = np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.2 * np.sin(2 * np.pi * 3300 * t)])
    return (x + 0.01 * rng.standard_normal(x.shape)).astype(np.float32)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(((a - b) ** 2).mean() / (b ** 2).mean()))


@pytest.mark.parametrize("name", ["4band_v3", "1band_sr44100_hl512"])
def test_layout_gives_the_wave_back(name):
    p = builtin(name)
    x = _wave(2.0)
    spec, high = vr_spec.analyse(x, p)
    assert spec.shape[:2] == (2, p.bins + 1)
    y = vr_spec.synthesise(spec, p, vr_spec.mirror_high_end(spec, high, p))
    n = min(x.shape[1], y.shape[1]) - 4000
    assert _rel(y[:, 4000:n], x[:, 4000:n]) < 0.05  # band crossovers are UVR's ramps


def test_both_network_kinds_load_and_separate(tmp_path):
    x = _wave(3.0)
    old = load_vr(save_vr(tmp_path / "HP5_only_main_vocal.pth", "old", params="4band_v2",
                          half=True), "cpu")  # upstream stores its weights in float16
    new = load_vr(save_vr(tmp_path / "VR-DeEchoAggressive.pth", "new", json_beside=True),
                  "cpu")
    assert old.kind == "old" and old.params_from == "known name HP5_only_main_vocal"
    assert new.kind == "new" and new.params_from == "VR-DeEchoAggressive.json"
    for sep in (old, new):
        assert isinstance(sep, Separator) and sep.sample_rate == SR
        voice, rest = sep.separate(x)
        assert voice.shape == rest.shape == x.shape and voice.dtype == np.float32
        assert np.isfinite(voice).all() and np.abs(voice).max() > 1e-3
        mid = slice(4000, x.shape[1] - 4000)  # the two stems add up to the mixture
        assert _rel((voice + rest)[:, mid], x[:, mid]) < 0.05
    # HP5 predicts the accompaniment (voice = the rest); DeEcho predicts the dry voice
    assert not old.mask_voice and new.mask_voice


def test_voice_setting_swaps_the_stems_and_tta_averages(tmp_path):
    path = save_vr(tmp_path / "VR-DeEchoNormal.pth", "new", seed=3)
    x = _wave(2.0, seed=1)
    v_auto, r_auto = load_vr(path, "cpu").separate(x)
    v_rest, r_rest = load_vr(path, "cpu", VrOptions(voice="rest")).separate(x)
    assert np.array_equal(v_auto, r_rest) and np.array_equal(r_auto, v_rest)
    v_tta, _ = load_vr(path, "cpu", VrOptions(tta=True)).separate(x)
    assert v_tta.shape == x.shape and not np.allclose(v_tta, v_auto)


def test_aggressiveness_cuts_harder_on_old_networks(tmp_path):
    path = save_vr(tmp_path / "HP2_all_vocals.pth", "old", params="4band_v2")
    x = _wave(2.0)
    soft = load_vr(path, "cpu", VrOptions(aggressiveness=0.0)).separate(x)[1]
    hard = load_vr(path, "cpu", VrOptions(aggressiveness=0.2)).separate(x)[1]
    # the mask (here: the accompaniment, "rest") is raised to a higher power: smaller
    assert (hard ** 2).sum() < (soft ** 2).sum()


def test_segments_cover_the_file_and_join_smoothly(tmp_path):
    sep = load_vr(save_vr(tmp_path / "HP3_all_vocals.pth", "old"), "cpu")
    x = _wave(7.0)
    whole = sep.separate(x)[0].T
    blocks = (x.T[i:i + 30000] for i in range(0, x.shape[1], 30000))
    parts = np.concatenate(list(segment.stream(sep, blocks, segment_s=4.0, overlap_s=1.0)))
    assert parts.shape == whole.shape
    same = np.concatenate(list(segment.stream(sep, iter([x.T]), segment_s=60.0)))
    assert np.array_equal(same, whole)  # one segment: exactly the whole-file result
    assert _rel(parts, whole) < 0.25  # each segment normalised and padded on its own


def test_bad_files_say_what_to_do(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(StepError, match="Cannot read junk.pth"):
        load_vr(junk, "cpu")
    other = tmp_path / "other.pth"
    torch.save({"encoder.weight": torch.zeros(2, 2)}, str(other))
    with pytest.raises(StepError, match="not a VR-architecture model"):
        load_vr(other, "cpu")
    new = save_vr(tmp_path / "VR-DeEchoNormal.pth", "new")
    with pytest.raises(StepError, match="bins") as e:
        load_vr(new, "cpu", VrOptions(params="1band_sr44100_hl512"))
    assert e.value.hint
    with pytest.raises(StepError, match="No VR model parameters"):
        load_vr(new, "cpu", VrOptions(params=str(tmp_path / "missing.json")))
