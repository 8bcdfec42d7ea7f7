"""Full-size modules match upstream's state-dict manifests key for key, shape for shape
(and in the same order, so optimizer states line up too)."""
from __future__ import annotations

import json

from engine.models.sovits.config import SovitsConfig
from engine.models.sovits.discriminator import MultiPeriodDiscriminator
from engine.models.sovits.synthesizer import Synthesizer

from .conftest import MANIFESTS


def _manifest(name: str) -> list[tuple[str, tuple[int, ...]]]:
    data = json.loads((MANIFESTS / f"{name}.json").read_text())
    return [(t["key"], tuple(t["shape"])) for t in data["tensors"]]


def test_full_size_generator_matches_training_manifest():
    sd = Synthesizer(SovitsConfig()).state_dict()
    assert [(k, tuple(v.shape)) for k, v in sd.items()] == _manifest(
        "sovits_v2_generator_train_ckpt")
    assert sum(v.numel() for v in sd.values()) == 52_883_969


def test_full_size_export_keys_are_generator_without_enc_q():
    sd = Synthesizer(SovitsConfig()).state_dict()
    ours = [(k, tuple(v.shape)) for k, v in sd.items() if "enc_q" not in k]
    assert ours == _manifest("sovits_v2_generator_export")
    assert len(ours) == 673


def test_full_size_discriminator_matches_manifest():
    sd = MultiPeriodDiscriminator().state_dict()
    assert [(k, tuple(v.shape)) for k, v in sd.items()] == _manifest("sovits_v2_discriminator")


def test_v1_tables_differ_only_in_sizes():
    sd = Synthesizer(SovitsConfig(version="v1")).state_dict()
    assert tuple(sd["enc_p.text_embedding.weight"].shape) == (322, 192)
    assert tuple(sd["ref_enc.spectral.0.fc.weight"].shape) == (128, 1025)
