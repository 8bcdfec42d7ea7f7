"""Upstream's small v2 export, loaded strictly, reproduces upstream's own outputs on the
fixture inputs within the fixtures' tolerances (atol = rtol = 1e-4, ids exact)."""
from __future__ import annotations

import numpy as np
import torch

from engine.models.sovits.audio import spectrogram
from engine.models.sovits.checkpoint import read_sovits_file

from .conftest import assert_close, golden


def test_reads_upstream_export_with_hparams_config(upstream_small_pth):
    f = read_sovits_file(upstream_small_pth)
    assert (f.kind, f.version, f.info) == ("export", "v2", "1epoch_1iteration")
    assert f.hparams["model"]["inter_channels"] == 16 and f.hparams["data"]["hop_length"] == 640
    assert f.config.inter_channels == 16 and f.config.upsample_initial_channel == 64
    assert not any("enc_q" in k for k in f.weights) and len(f.weights) == 529


def test_spectrogram(inputs):
    g = golden("sovits_spectrogram")
    assert_close(spectrogram(torch.from_numpy(inputs["ref_wav_32k"])), g["spec"])
    assert_close(spectrogram(torch.from_numpy(inputs["ref_wav2_32k"])), g["spec2"])


def test_extract_latent(upstream_small_model, inputs):
    g = golden("sovits_extract_latent")
    ssl = torch.from_numpy(inputs["ssl"])
    with torch.no_grad():
        assert_close(upstream_small_model.ssl_proj(ssl), g["ssl_proj"])
    codes = upstream_small_model.extract_latent(ssl)
    assert codes.dtype == torch.int64
    np.testing.assert_array_equal(codes.numpy(), g["codes"])


def test_quantizer_decode(upstream_small_model, inputs):
    g = golden("sovits_quantizer_decode")
    assert_close(upstream_small_model.quantizer.decode(torch.from_numpy(inputs["codes"])),
                 g["quantized"])


def _args(inputs):
    spec = torch.from_numpy(golden("sovits_spectrogram")["spec"])
    return torch.from_numpy(inputs["codes"]), torch.from_numpy(inputs["text"]), spec


def test_decode_ns0_and_intermediates(upstream_small_model, inputs):
    m = upstream_small_model
    g = golden("sovits_decode_ns0")
    codes, text, spec = _args(inputs)
    with torch.no_grad():
        ge = m.style(spec)
        assert_close(ge, g["ge"])
        q = m._upsample(m.quantizer.decode(codes))
        assert_close(q, g["enc_p.quantized_in"])
        x, m_p, logs_p, mask = m.enc_p(q, torch.tensor([80]), text, torch.tensor([20]), ge)
        for name, ours in (("x", x), ("m_p", m_p), ("logs_p", logs_p), ("y_mask", mask)):
            assert_close(ours, g[f"enc_p.{name}"])
        z = m.flow(m_p, mask, g=ge, reverse=True)
        assert_close(z, g["flow.z"])
        assert_close(z * mask, g["dec.in"])
    assert_close(m.decode(codes, text, [spec], noise_scale=0.0), g["audio"])


def test_decode_speed_125(upstream_small_model, inputs):
    codes, text, spec = _args(inputs)
    out = upstream_small_model.decode(codes, text, [spec], noise_scale=0.0, speed=1.25)
    assert_close(out, golden("sovits_decode_speed125_ns0")["audio"])


def test_decode_two_references(upstream_small_model, inputs):
    g = golden("sovits_decode_tworefs_ns0")
    codes, text, spec = _args(inputs)
    spec2 = torch.from_numpy(golden("sovits_spectrogram")["spec2"])
    with torch.no_grad():
        assert_close(torch.stack([upstream_small_model.style(spec),
                                  upstream_small_model.style(spec2)]), g["ge_each"])
    out = upstream_small_model.decode(codes, text, [spec, spec2], noise_scale=0.0)
    assert_close(out, g["audio"])


def test_decode_seeded_noise(upstream_small_model, inputs):
    g = golden("sovits_decode_ns05_seed4321")
    codes, text, spec = _args(inputs)
    injected = upstream_small_model.decode(codes, text, [spec], noise_scale=0.5,
                                           noise=torch.from_numpy(g["noise"]))
    assert_close(injected, g["audio"])
    torch.manual_seed(4321)  # the same single draw upstream makes
    assert_close(upstream_small_model.decode(codes, text, [spec], noise_scale=0.5), g["audio"])


def test_folded_weight_norm_decodes_the_same(upstream_small_pth, inputs):
    from engine.models.sovits.checkpoint import load_sovits

    m = load_sovits(upstream_small_pth)  # folds weight-norm kernels
    codes, text, spec = _args(inputs)
    assert_close(m.decode(codes, text, spec, noise_scale=0.0),
                 golden("sovits_decode_ns0")["audio"])
