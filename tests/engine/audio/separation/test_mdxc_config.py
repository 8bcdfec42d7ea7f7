"""The MDXC / RoFormer yaml, read the way the published files are laid out."""
from __future__ import annotations

import pytest

from engine.audio.separation.mdxc_config import (BS_ROFORMER, MDX23C, MEL_ROFORMER,
                                                 Mdx23cParams, RoformerParams, read_config)
from engine.events import StepError
from tests.engine.audio.separation.tiny_mdxc import write_yaml


def test_bs_roformer_yaml_with_python_tuples(tmp_path):
    cfg = read_config(write_yaml(tmp_path / "m.yaml", "bs_roformer", chunk=4096, overlap=4))
    assert cfg.arch == BS_ROFORMER
    assert isinstance(cfg.model, RoformerParams)
    assert cfg.model.freqs_per_bands == (8, 8, 16, 33)  # the !!python/tuple tag
    assert cfg.model.stereo is True and cfg.model.stft_hop_length == 32
    assert cfg.audio.chunk_size == 4096 and cfg.audio.sample_rate == 8000
    assert cfg.inference.num_overlap == 4 and cfg.inference.batch_size == 2
    assert cfg.training.target_instrument == "vocals" and cfg.stems == ("vocals",)


def test_kim_mel_yaml_without_audio_section(tmp_path):
    """Kim's Mel-Band-RoFormer yaml keeps chunk_size under inference and the rate in model."""
    cfg = read_config(write_yaml(tmp_path / "m.yaml", "mel_band_roformer", chunk=3000,
                                 sr=16000))
    assert cfg.arch == MEL_ROFORMER and cfg.model.num_bands == 6
    assert cfg.audio.chunk_size == 3000 and cfg.audio.sample_rate == 16000


def test_mdx23c_yaml(tmp_path):
    cfg = read_config(write_yaml(tmp_path / "m.yaml", "mdx23c", target=None))
    assert cfg.arch == MDX23C and isinstance(cfg.model, Mdx23cParams)
    assert cfg.model.scale == (2, 2) and cfg.audio.dim_f == 64 and cfg.audio.n_fft == 256
    assert cfg.training.target_instrument is None and cfg.stems == ("vocals", "other")


@pytest.mark.parametrize("text, words", [
    ("just a string\n", "no 'model' section"),
    ("model: {dim: 8, depth: 1}\n", "neither MDX23C"),
    ("model: [1, 2\n", "not a YAML file"),
    ("model: !!python/object/apply:os.system ['true']\n", "not a YAML file"),
])
def test_not_an_mdxc_yaml_is_a_sentence(tmp_path, text, words):
    y = tmp_path / "thing.yaml"
    y.write_text(text)
    with pytest.raises(StepError) as err:
        read_config(y)
    assert words in err.value.reason and "thing.yaml" in err.value.reason
    assert err.value.hint


def test_unknown_model_field_is_named(tmp_path):
    y = write_yaml(tmp_path / "m.yaml", "bs_roformer")
    y.write_text(y.read_text().replace("  depth: 1\n", "  depth: 1\n  zero_dc: true\n"))
    with pytest.raises(StepError, match="model.zero_dc"):
        read_config(y)


def test_bands_that_do_not_cover_the_stft_are_refused(tmp_path):
    y = write_yaml(tmp_path / "m.yaml", "bs_roformer")
    y.write_text(y.read_text().replace("  - 33\n", "  - 30\n"))
    with pytest.raises(StepError, match="sums to 62, not the 65 bins"):
        read_config(y)


def test_mdx23c_chunk_that_the_unet_cannot_halve_is_refused(tmp_path):
    y = write_yaml(tmp_path / "m.yaml", "mdx23c", chunk=32 * 64)
    with pytest.raises(StepError, match="65 STFT frames"):
        read_config(y)


def test_name_decides_only_when_fields_do_not(tmp_path):
    y = write_yaml(tmp_path / "m.yaml", "mel_band_roformer")
    y.write_text(y.read_text().replace("  num_bands: 6\n", ""))
    assert read_config(y, "MelBandRoformer.ckpt").arch == MEL_ROFORMER
    with pytest.raises(StepError, match="freqs_per_bands sums to 0"):  # BS by its name
        read_config(y, "model_bs_roformer_ep_317.ckpt")
