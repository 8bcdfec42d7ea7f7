"""load_mdxc end to end on tiny random models saved as real .ckpt + .yaml pairs."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from engine.audio.separation.base import Separator
from engine.audio.separation.chunked import plan
from engine.audio.separation.mdxc import StemPlan, load_mdxc, stem_plan
from engine.audio.separation.mdxc_config import read_config
from engine.events import StepError
from tests.engine.audio.separation.tiny_mdxc import one_thread  # noqa: F401
from tests.engine.audio.separation.tiny_mdxc import SR, build_model, make_pair, write_yaml

pytestmark = pytest.mark.usefixtures("one_thread")
ARCHS = ["bs_roformer", "mel_band_roformer", "mdx23c"]
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device on this machine"))]


def _wave(seconds: float, channels: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 1.5 * t))
    return (tone + 0.05 * rng.standard_normal((channels, t.size))).astype(np.float32)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("arch", ARCHS)
def test_each_architecture_separates(tmp_path, arch, device):
    ckpt, yaml = make_pair(tmp_path, arch, name=f"tiny_{arch}_vocals")
    sep = load_mdxc(ckpt, yaml, device)
    assert isinstance(sep, Separator)
    assert sep.sample_rate == SR and sep.name == ckpt.name
    wave = _wave(3.1)
    seen: list[float] = []
    voice, rest = sep.separate(wave, seen.append)
    assert voice.shape == rest.shape == wave.shape
    assert voice.dtype == rest.dtype == np.float32
    assert np.isfinite(voice).all() and np.abs(voice).max() > 1e-4
    np.testing.assert_allclose(voice + rest, wave, atol=1e-5)  # target vocals: rest = mix − it
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 3  # per batch of chunks


@pytest.mark.parametrize("arch", ["bs_roformer", "mel_band_roformer"])
@pytest.mark.parametrize("overlap, chunk", [(2, 1024), (4, 2048)])
def test_chunked_equals_one_pass_away_from_chunk_edges(tmp_path, arch, overlap, chunk):
    """With the time-attention switched off the network is local to STFT frames, and chunk
    starts fall on the hop grid: every sample farther than two frames' reach from a chunk
    edge must come out exactly as in one pass over the whole input (so offsets, padding,
    windows and batching are right); only samples near edges may differ."""
    kw = dict(chunk=chunk, overlap=overlap, batch=3)
    _, yaml = make_pair(tmp_path, arch, **kw)
    model = build_model(yaml, seed=3)
    with torch.no_grad():
        for block in model.layers:
            for layer in block[-2].layers:
                layer[0].to_out[0].weight.zero_()
    ckpt, yaml = make_pair(tmp_path, arch, model=model, **kw)
    sep = load_mdxc(ckpt, yaml)
    n = SR * 3 + 77
    wave = _wave(n / SR, seed=2)[:, :n]
    voice, _ = sep.separate(wave)
    with torch.inference_mode():
        whole = sep.model(torch.from_numpy(wave)[None])[0, 0].numpy()
    border, _, starts = plan(n, chunk, overlap)
    assert len(starts) > 10
    far = np.ones(n, bool)
    for s in starts:
        for edge in (s - border, s + chunk - border):
            far[max(0, edge - 128):max(0, edge + 128)] = False
    assert far.mean() > 0.4
    assert np.abs(voice - whole)[:, far].max() < 1e-6
    assert np.abs(voice - whole)[:, ~far].max() > 1e-4  # the check above is not vacuous


def test_stereo_model_on_mono_and_mono_model_on_stereo(tmp_path):
    ckpt, yaml = make_pair(tmp_path, "bs_roformer", name="st")
    v, r = load_mdxc(ckpt, yaml).separate(_wave(1.0, channels=1))
    assert v.shape == r.shape == (1, SR)
    ckpt, yaml = make_pair(tmp_path, "mel_band_roformer", name="mono", stereo=False)
    sep = load_mdxc(ckpt, yaml)
    wave = _wave(1.0)
    v, r = sep.separate(wave)
    assert v.shape == (2, SR)
    left, _ = sep.separate(wave[:1])  # each channel on its own
    np.testing.assert_allclose(v[:1], left, atol=1e-6)


def test_which_stem_is_the_voice(tmp_path):
    def cfg(target, instruments=("vocals", "other")):
        y = write_yaml(tmp_path / "m.yaml", "mdx23c", target=target)
        text = y.read_text().replace("  - vocals\n  - other\n",
                                     "".join(f"  - {i}\n" for i in instruments))
        y.write_text(text)
        return read_config(y)

    assert stem_plan(cfg("vocals")) == StemPlan(0, True, None)
    assert stem_plan(cfg("instrumental", ("vocals", "instrumental"))) == StemPlan(0, False, None)
    assert stem_plan(cfg("noreverb", ("noreverb", "reverb"))) == StemPlan(0, True, None)
    assert stem_plan(cfg(None, ("other", "vocals"))) == StemPlan(1, True, 0)
    assert stem_plan(cfg(None, ("bass", "drums", "vocals", "other"))) == StemPlan(2, True, None)


def test_model_that_predicts_the_accompaniment(tmp_path):
    ckpt, yaml = make_pair(tmp_path, "bs_roformer", name="inst", target="other")
    sep = load_mdxc(ckpt, yaml)
    wave = _wave(1.0)[:, :2048]  # exactly one chunk: the output is one network pass
    voice, rest = sep.separate(wave)
    with torch.inference_mode():
        pred = sep.model(torch.from_numpy(wave)[None])[0, 0].numpy()
    np.testing.assert_allclose(rest, pred, atol=1e-6)  # what the model predicts is removed
    np.testing.assert_allclose(voice, wave - pred, atol=1e-6)


def test_two_stem_model_without_target_returns_both_predictions(tmp_path):
    ckpt, yaml = make_pair(tmp_path, "mdx23c", target=None)
    voice, rest = load_mdxc(ckpt, yaml).separate(_wave(1.0))
    assert np.abs(voice + rest - _wave(1.0)).max() > 1e-3  # the rest is the model's own


def _refusal(ckpt, yaml) -> StepError:
    with pytest.raises(StepError) as err:
        load_mdxc(ckpt, yaml)
    assert err.value.hint
    return err.value


@pytest.mark.parametrize("arch", ARCHS)
def test_a_renamed_key_is_refused_with_its_name(tmp_path, arch):
    ckpt, yaml = make_pair(tmp_path, arch)
    state = torch.load(ckpt, weights_only=True)
    first = next(iter(state))
    state["renamed." + first] = state.pop(first)
    torch.save(state, ckpt)
    err = _refusal(ckpt, yaml)
    assert ckpt.name in err.reason and yaml.name in err.reason and first in err.reason


def test_a_wrong_shape_and_an_extra_key_are_refused(tmp_path):
    ckpt, yaml = make_pair(tmp_path, "bs_roformer")
    state = torch.load(ckpt, weights_only=True)
    good = dict(state)
    state["final_norm.gamma"] = torch.ones(17)
    torch.save(state, ckpt)
    assert re.search(r"final_norm.gamma is \(17,\) in the file, \(16,\) by the yaml",
                     _refusal(ckpt, yaml).reason)
    torch.save({**good, "extra.weight": torch.ones(1)}, ckpt)
    assert "the file has extra.weight" in _refusal(ckpt, yaml).reason


def test_a_yaml_for_another_size_is_refused(tmp_path):
    ckpt, _ = make_pair(tmp_path, "mel_band_roformer", name="m")
    other = write_yaml(tmp_path / "other.yaml", "mel_band_roformer")
    other.write_text(other.read_text().replace("num_bands: 6", "num_bands: 8"))
    err = _refusal(ckpt, other)
    assert "m.ckpt does not match other.yaml" in err.reason


class _NotATensor:
    pass


def test_pickled_objects_and_junk_are_refused(tmp_path):
    ckpt, yaml = make_pair(tmp_path, "bs_roformer")
    torch.save({"weights": _NotATensor()}, ckpt)
    assert "not a plain PyTorch checkpoint" in _refusal(ckpt, yaml).reason
    ckpt.write_bytes(b"not a zip")
    assert "not a plain PyTorch checkpoint" in _refusal(ckpt, yaml).reason


def test_missing_rotary_frequencies_and_lucidrains_layout_load(tmp_path):
    ckpt, yaml = make_pair(tmp_path, "mel_band_roformer")
    state = torch.load(ckpt, weights_only=True)
    wave = _wave(0.5)
    expected, _ = load_mdxc(ckpt, yaml).separate(wave)
    # lucidrains' own file: time/frequency transformers at .1/.2, no rotary buffers
    shifted = {re.sub(r"^layers\.(\d+)\.(\d)\.", lambda m: f"layers.{m[1]}.{int(m[2]) + 1}.",
                      k): v for k, v in state.items() if not k.endswith("rotary_embed.freqs")}
    torch.save(shifted, ckpt)
    got, _ = load_mdxc(ckpt, yaml).separate(wave)
    np.testing.assert_array_equal(got, expected)
