"""The Pro training forward (what SoVITS training calls with each clip's 7-sv_cn embedding):
the speaker layers take part and get gradients; without embeddings a Pro model stops."""
from __future__ import annotations

import pytest
import torch

from engine.models.sovits.config import tiny_config
from engine.models.sovits.synthesizer import Synthesizer

from .conftest import VERSIONS


def _batch(cfg, b=2, frames=40):
    torch.manual_seed(11)
    ssl = torch.randn(b, cfg.ssl_dim, frames)
    spec = torch.rand(b, cfg.spec_channels, frames).abs()
    spec_lengths = torch.tensor([frames, frames - 6])
    text = torch.randint(1, cfg.n_symbols, (b, 12))
    text_lengths = torch.tensor([12, 9])
    return ssl, spec, spec_lengths, text, text_lengths


@pytest.mark.parametrize("version", VERSIONS)
def test_training_forward_uses_speaker_embeddings(version):
    cfg = tiny_config(version)
    model = Synthesizer(cfg).train()
    batch = _batch(cfg)
    sv = torch.randn(2, cfg.sv_dim)
    out = model(*batch, sv_emb=sv)
    assert out.audio.shape == (2, 1, cfg.segment_frames * 640)
    (out.audio.square().mean() + out.m_p.square().mean()).backward()
    for name in ("sv_emb.weight", "ge_to512.weight", "prelu.weight", "dec.cond.weight"):
        g = model.get_parameter(name).grad
        assert g is not None and g.abs().sum() > 0, name
    with pytest.raises(ValueError, match="speaker embedding"):
        model(*batch)


def test_v2_model_has_no_speaker_layers():
    model = Synthesizer(tiny_config("v2"))
    assert not any(k.split(".")[0] in ("sv_emb", "ge_to512", "prelu") for k in model.state_dict())
