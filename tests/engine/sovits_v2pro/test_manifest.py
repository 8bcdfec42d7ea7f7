"""Full-size v2Pro / v2ProPlus generators and the Pro discriminator match upstream's
manifests key for key, shape for shape and in file order; our export config block equals
the one upstream's WebUI saves."""
from __future__ import annotations

import json

import pytest

from engine.models.sovits.config import default_config
from engine.models.sovits.discriminator import MultiPeriodDiscriminator, periods_for
from engine.models.sovits.hparams import upstream_hparams
from engine.models.sovits.synthesizer import Synthesizer

from .conftest import MANIFESTS, VERSIONS, stem


def _manifest(name: str) -> dict:
    return json.loads((MANIFESTS / f"{name}.json").read_text())


def _keys(tensors: list[dict]) -> list[tuple[str, tuple[int, ...]]]:
    return [(t["key"], tuple(t["shape"])) for t in tensors]


@pytest.fixture(scope="module")
def full_size():
    import torch

    with torch.device("meta"):  # shapes only: no 180 M random draws
        return {v: Synthesizer(default_config(v)).state_dict() for v in VERSIONS}


@pytest.mark.parametrize("version", VERSIONS)
def test_full_size_generator_matches_export_manifest(version, full_size):
    m = _manifest(f"sovits_{stem(version)}_generator_export")
    sd = full_size[version]
    export = [(k, tuple(v.shape)) for k, v in sd.items() if "enc_q" not in k]
    assert export == _keys(m["tensors"])
    assert len(export) == m["num_tensors"] == 678
    assert sum(v.numel() for k, v in sd.items() if "enc_q" not in k) == m["num_elements"]
    # The training checkpoint G_*.pth holds enc_q too, in its place after dec.
    assert [(k, tuple(v.shape)) for k, v in sd.items() if "enc_q" in k] == \
        _keys(m["dropped_on_export_enc_q"])
    totals = m["training_model_totals"]
    assert len(sd) == totals["state_dict_tensors_incl_enc_q"] == 781
    assert sum(v.numel() for v in sd.values()) == totals["state_dict_elements_incl_enc_q"]


@pytest.mark.parametrize("version", VERSIONS)
def test_config_block_is_upstreams(version):
    m = _manifest(f"sovits_{stem(version)}_generator_export")
    cfg = default_config(version)
    assert cfg.upstream_model_dict() == m["config_model"] == m["config_saved"]["model"]
    ours = upstream_hparams(cfg, "ref_sovits", "logs/ref_sovits",
                            {"epochs": 1, "batch_size": 1, "save_every_epoch": 1})
    saved = dict(m["config_saved"])
    saved["train"] = {k: v for k, v in saved["train"].items() if k != "lora_rank"}  # v3/v4 UI field
    assert ours == saved
    assert ours["save_weight_dir"] == f"SoVITS_weights_{version}"


def test_pro_discriminator_matches_manifest():
    m = _manifest("sovits_v2pro_discriminator")
    assert periods_for("v2Pro") == periods_for("v2ProPlus") == (2, 3, 5, 7, 11, 17, 23)
    assert periods_for("v2") == (2, 3, 5, 7, 11)
    sd = MultiPeriodDiscriminator(periods_for("v2ProPlus")).state_dict()
    assert [(k, tuple(v.shape)) for k, v in sd.items()] == _keys(m["tensors"])
    assert len(sd) == 147 and sum(v.numel() for v in sd.values()) == 63_189_440


def test_gpt_base_s1v3_is_v2_architecture():
    """Pro's GPT base s1v3.ckpt is loaded by upstream strictly into the v2 GPT (s1longer-v2,
    732 phonemes), so the v2 GPT manifest is its manifest; the Pro versions share v2's
    symbol table. Nothing Pro-specific exists on the GPT side."""
    from engine.text.symbols import symbols
    from engine.train.pretrained import GPT_BASE, GPT_FILE

    gpt = {t["key"]: tuple(t["shape"]) for t in _manifest("gpt_v2_export")["tensors"]}
    rows = gpt["model.ar_text_embedding.word_embeddings.weight"][0]
    for version in VERSIONS:
        assert GPT_FILE[version] == "s1v3.ckpt" and GPT_BASE[version].files == ("s1v3.ckpt",)
        assert len(symbols(version)) == rows == default_config(version).n_symbols == 732
