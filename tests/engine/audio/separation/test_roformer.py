"""BS-RoFormer / Mel-Band-RoFormer: the published checkpoints' layout, and the mask path.

Layout facts (key names, shapes, counts) are those of viperx's BS-RoFormer 1297 and Kim's
Mel-Band-RoFormer vocals checkpoints as public ports of them list; the full-size models are
built on the meta device (shapes only, no memory)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.audio.separation.mdxc import load_mdxc
from engine.audio.separation.mdxc_config import RoformerParams
from engine.audio.separation.roformer import BSRoformer, MelBandRoformer, mel_bands
from tests.engine.audio.separation.tiny_mdxc import (SR, build_model, make_identity, make_pair,
                                                     one_thread)  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_thread")

VIPERX_BANDS = (2,) * 24 + (4,) * 12 + (12,) * 8 + (24,) * 8 + (48,) * 8 + (128, 129)


def test_bs_roformer_1297_layout():
    p = RoformerParams(dim=512, depth=12, stereo=True, time_transformer_depth=1,
                       freq_transformer_depth=1, freqs_per_bands=VIPERX_BANDS,
                       stft_hop_length=441, mask_estimator_depth=2)
    with torch.device("meta"):
        sd = BSRoformer(p).state_dict()
    assert tuple(sd["band_split.to_features.0.0.gamma"].shape) == (8,)
    assert tuple(sd["layers.0.0.layers.0.0.to_qkv.weight"].shape) == (1536, 512)
    assert tuple(sd["layers.11.1.layers.0.0.rotary_embed.freqs"].shape) == (32,)
    assert tuple(sd["mask_estimators.0.to_freqs.61.0.2.weight"].shape) == (1032, 2048)
    assert tuple(sd["final_norm.gamma"].shape) == (512,)
    assert "layers.0.0.norm.gamma" not in sd  # BS: no norm after each axial transformer


def test_kim_mel_band_roformer_layout():
    p = RoformerParams(dim=384, depth=6, stereo=True, time_transformer_depth=1,
                       freq_transformer_depth=1, num_bands=60, sample_rate=44100,
                       stft_hop_length=441, mask_estimator_depth=2)
    with torch.device("meta"):
        m = MelBandRoformer(p)
    sd = m.state_dict()
    assert len(sd) == 684 and "final_norm.gamma" not in sd
    assert m.freq_indices.shape == (3958,)  # bins in bands × 2 channels, overlaps counted
    assert tuple(sd["band_split.to_features.0.0.gamma"].shape) == (28,)  # 7 bins
    assert tuple(sd["mask_estimators.0.to_freqs.0.0.2.weight"].shape) == (1536, 1536)
    assert tuple(sd["mask_estimators.0.to_freqs.0.0.4.weight"].shape) == (56, 1536)
    assert tuple(sd["layers.5.1.layers.0.0.to_out.0.weight"].shape) == (384, 512)
    assert tuple(sd["layers.0.0.norm.gamma"].shape) == (384,)


def test_mel_bands_cover_every_bin_and_overlap():
    bands = mel_bands(RoformerParams(dim=8, depth=1, num_bands=60, sample_rate=44100))
    assert bands.shape == (60, 1025) and bands.any(dim=0).all()
    assert (bands.sum(dim=0) > 1).any()  # neighbouring bands share bins: masks are averaged


@pytest.mark.parametrize("arch", ["bs_roformer", "mel_band_roformer"])
@pytest.mark.parametrize("overlap, batch", [(2, 1), (4, 3)])
def test_unit_mask_gives_the_input_back_through_every_chunk(tmp_path, arch, overlap, batch):
    """A mask of exactly 1 makes the network an STFT round trip, so the chunked,
    cross-faded output must equal the input everywhere, seams and ends included (for Mel:
    overlapping bands' masks averaged, not summed)."""
    yaml_kw = dict(chunk=1024, overlap=overlap, batch=batch)
    ckpt, yaml = make_pair(tmp_path, arch, **yaml_kw)
    model = build_model(yaml)
    make_identity(model)
    ckpt, yaml = make_pair(tmp_path, arch, model=model, **yaml_kw)
    sep = load_mdxc(ckpt, yaml, "cpu")
    wave = np.random.default_rng(1).uniform(-0.5, 0.5, (2, SR * 3 + 123)).astype(np.float32)
    voice, rest = sep.separate(wave)
    assert np.abs(voice - wave).max() < 1e-5
    assert np.abs(rest).max() < 1e-5


def test_random_model_output_depends_on_the_weights(tmp_path):
    """Guard for the test above: a random mask does change the audio."""
    ckpt, yaml = make_pair(tmp_path, "mel_band_roformer", chunk=1024)
    wave = np.random.default_rng(1).uniform(-0.5, 0.5, (2, SR)).astype(np.float32)
    voice, rest = load_mdxc(ckpt, yaml).separate(wave)
    assert np.abs(voice - wave).mean() > 1e-3
    np.testing.assert_allclose(voice + rest, wave, atol=1e-6)
