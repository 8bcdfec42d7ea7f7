"""Upstream's small v2Pro / v2ProPlus exports, loaded by our reader, reproduce upstream's own
decode (one reference and two references, noise 0) and every intermediate the fixtures
store: the per-reference style (ref_enc, sv_emb projection, PReLU), the averaged ge, MRTE's
ge512, the text encoder, the flow and the decoder input, within atol = rtol = 1e-4."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.models.sovits.checkpoint import load_sovits, load_weights, read_sovits_file
from engine.models.sovits.synthesizer import Synthesizer

from .conftest import HEADERS, VERSIONS, assert_close, golden, stem

pytestmark = pytest.mark.parametrize("version", VERSIONS)


def test_reads_upstream_pro_export(version, small_pth):
    raw = small_pth(version).read_bytes()
    assert raw[:2] == HEADERS[version]  # upstream's savee header, not "PK"
    f = read_sovits_file(small_pth(version))
    assert (f.kind, f.version, f.info) == ("export", version, "1epoch_1iteration")
    assert f.hparams["model"]["version"] == version and f.hparams["version"] == version
    c = f.config
    assert (c.gin_channels, c.inter_channels, c.p_dropout, c.mrte_hidden, c.sv_dim) == \
        (128, 16, 0.0, 512, 20480)
    assert c.upsample_initial_channel == (96 if version == "v2ProPlus" else 64)
    assert c.upsample_kernel_sizes[0] == (20 if version == "v2ProPlus" else 16)
    assert len(f.weights) == 534 and not any("enc_q" in k for k in f.weights)
    assert sum(v.numel() for v in f.weights.values()) == \
        (16_791_419 if version == "v2ProPlus" else 16_496_617)


def test_loads_strictly_except_enc_q(version, small_pth):
    """Every key of the file lands in our model with its shape; only enc_q (training-only,
    103 tensors) is absent, as with upstream's own strict=False load."""
    f = read_sovits_file(small_pth(version))
    model = Synthesizer(f.config)
    own = model.state_dict()
    assert sorted(set(own) - set(f.weights)) == sorted(k for k in own if k.startswith("enc_q."))
    assert len([k for k in own if k.startswith("enc_q.")]) == 103
    assert set(f.weights) <= set(own)
    assert all(tuple(own[k].shape) == tuple(v.shape) for k, v in f.weights.items())
    assert list(own)[-5:] == ["sv_emb.weight", "sv_emb.bias", "ge_to512.weight",
                              "ge_to512.bias", "prelu.weight"]  # upstream's file order
    load_weights(model, f.weights, f.path.name)  # raises on any missing/unexpected/shape


def _check_decode(model, g, codes, text, refs, svs):
    """Every array of fixture ``g`` (one entry per reference for the *_each arrays)."""
    with torch.no_grad():
        ref_out = [model.ref_enc(r, torch.ones(1, 1, r.shape[2])) for r in refs]
        assert_close(torch.stack(ref_out), g["ref_enc_out_each"])
        proj = [model.sv_emb(s) for s in svs]
        assert_close(torch.stack(proj), g["sv_proj_each"])
        pre = [o + p[..., None] for o, p in zip(ref_out, proj)]
        assert_close(torch.stack(pre), g["ge_pre_prelu_each"])
        each = [model.style(r, s) for r, s in zip(refs, svs)]
        assert_close(torch.stack(each), g["ge_each"])
        ge = torch.stack(each).mean(0)
        assert_close(ge, g["ge"])
        ge512 = model.mrte_style(ge)
        assert_close(ge512, g["ge512"])
        q = model._upsample(model.quantizer.decode(codes))
        if "enc_p.quantized_in" in g:  # stored with the one-reference fixture only
            assert_close(q, g["enc_p.quantized_in"])
        x, m_p, logs_p, mask = model.enc_p(q, torch.tensor([q.shape[-1]]), text,
                                           torch.tensor([text.shape[-1]]), ge512)
        for name, ours in (("x", x), ("m_p", m_p), ("logs_p", logs_p), ("y_mask", mask)):
            assert_close(ours, g[f"enc_p.{name}"])
        assert_close(m_p, g["flow.z_p_in"])  # noise 0: z_p is the prior mean
        z = model.flow(m_p, mask, g=ge, reverse=True)
        assert_close(z, g["flow.z"])
        assert_close(z * mask, g["dec.in"])
    audio = model.decode(codes, text, list(refs), noise_scale=0.0, sv_emb=list(svs))
    assert_close(audio, g["audio"])
    assert audio.shape[-1] == 2 * codes.shape[-1] * 640


def test_decode_one_reference_and_intermediates(version, small_model, inputs, specs):
    g = golden(f"sovits_{stem(version)}_decode_ns0")
    _check_decode(small_model(version), g, torch.from_numpy(inputs["codes"]),
                  torch.from_numpy(inputs["text"]), [specs[0]], [torch.from_numpy(inputs["sv_emb"])])


def test_decode_two_references_averages_after_prelu(version, small_model, inputs, specs):
    g = golden(f"sovits_{stem(version)}_decode_tworefs_ns0")
    svs = [torch.from_numpy(inputs["sv_emb"]), torch.from_numpy(inputs["sv_emb2"])]
    _check_decode(small_model(version), g, torch.from_numpy(inputs["codes"]),
                  torch.from_numpy(inputs["text"]), list(specs), svs)


def test_speaker_embedding_forms_give_identical_audio(version, small_model, inputs, specs):
    """Upstream accepts a list, one (1, 20480) tensor with one reference, or an (R, 20480)
    stack; all three decode bit-identically (spec §2.3)."""
    m = small_model(version)
    codes, text = torch.from_numpy(inputs["codes"]), torch.from_numpy(inputs["text"])
    sv, sv2 = torch.from_numpy(inputs["sv_emb"]), torch.from_numpy(inputs["sv_emb2"])
    one = m.decode(codes, text, [specs[0]], noise_scale=0.0, sv_emb=[sv])
    assert torch.equal(one, m.decode(codes, text, [specs[0]], noise_scale=0.0, sv_emb=sv))
    assert torch.equal(one, m.decode(codes, text, specs[0], noise_scale=0.0, sv_emb=sv))
    two = m.decode(codes, text, list(specs), noise_scale=0.0, sv_emb=[sv, sv2])
    assert torch.equal(two, m.decode(codes, text, list(specs), noise_scale=0.0,
                                     sv_emb=torch.cat([sv, sv2])))
    assert not torch.equal(one[..., :two.shape[-1]], two)  # the second voice does count


def test_pro_model_refuses_decoding_without_speaker_embedding(version, small_model, inputs, specs):
    m = small_model(version)
    codes, text = torch.from_numpy(inputs["codes"]), torch.from_numpy(inputs["text"])
    with pytest.raises(ValueError, match=f"{version} model needs the reference's speaker"):
        m.decode(codes, text, [specs[0]], noise_scale=0.0)
    with pytest.raises(ValueError, match="2 reference spectrograms but 1 speaker embeddings"):
        m.decode(codes, text, list(specs), noise_scale=0.0,
                 sv_emb=[torch.from_numpy(inputs["sv_emb"])])


def test_load_sovits_folded_and_synthesize_api(version, small_pth, inputs, specs):
    """The entry point other areas use (weight norms folded, windowed decoder) gives the
    same audio; synthesize() takes the embeddings next to the references and, without
    them, stops with a sentence."""
    from engine.events import StepError
    from engine.models.sovits.api import synthesize

    m = load_sovits(small_pth(version), expect_version=version)
    g = golden(f"sovits_{stem(version)}_decode_tworefs_ns0")
    codes, text = inputs["codes"].reshape(-1), inputs["text"].reshape(-1)
    audio = synthesize(m, codes, text, list(specs), noise_scale=0.0,
                       sv_embs=[inputs["sv_emb"], inputs["sv_emb2"]])
    assert audio.dtype == np.float32
    assert_close(audio, g["audio"][0, 0])
    with pytest.raises(StepError, match="speaker embedding"):
        synthesize(m, codes, text, [specs[0]], noise_scale=0.0)
