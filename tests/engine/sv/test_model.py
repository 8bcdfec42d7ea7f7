"""ERes2NetV2 against upstream: the full-size state dict key for key, the strict load of
upstream's file, and forward3 on the fixture weights (README tolerance: max abs <= 1e-3 and
relative L2 <= 1e-4)."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

from engine.models.sv import EMBED_DIM, ERes2NetV2, SpeakerEncoder, SvModelError
from tests.engine.sv.conftest import close, load_npz
from tests.helpers.fixtures import MANIFESTS


def test_full_size_state_dict_equals_the_manifest():
    manifest = json.loads((MANIFESTS / "eres2netv2_sv_state_dict.json").read_text())
    with torch.device("meta"):  # shapes and dtypes only: no 215 MB of random init
        model = ERes2NetV2()
    ours = [(k, list(v.shape), str(v.dtype).removeprefix("torch."))
            for k, v in model.state_dict().items()]
    assert ours == [(t["key"], t["shape"], t["dtype"]) for t in manifest["tensors"]]
    params = {k for k, _ in model.named_parameters()}
    assert [t["key"] for t in manifest["tensors"] if t["kind"] == "parameter"] == \
        [k for k in model.state_dict() if k in params]
    assert sum(p.numel() for p in model.parameters()) == manifest["num_parameters_nn"] \
        == 53_513_632


def test_upstream_file_loads_strictly_with_weights_only(sv_ckpt):
    state = torch.load(sv_ckpt, map_location="cpu", weights_only=True, mmap=True)
    model = ERes2NetV2()
    assert not model.load_state_dict(state, strict=True).missing_keys


def test_forward3_matches_upstream_stage_by_stage(encoder, inputs):
    """wav16_a (2.0 s) through every stage: upstream's per-channel means say where a
    mismatch would start; the embedding is the README's tolerance."""
    from engine.models.sv.fbank import fbank

    ref = load_npz("sv_embedding.npz")
    with torch.no_grad():
        stages = encoder.model.stages(fbank(torch.from_numpy(inputs["wav16_a"])))
    for name in ("bn1", "layer1", "layer2", "layer3", "layer4", "layer3_ds", "fuse34"):
        np.testing.assert_allclose(stages[name].mean(dim=(2, 3)).numpy(),
                                   ref[f"chanmean.{name}_a"], atol=1e-4, rtol=1e-4,
                                   err_msg=name)
    close(stages["embed"].numpy(), ref["emb_a"])


def test_embedding_matches_upstream(encoder, inputs):
    """wav16_b (3.3 s, with a glide and a noise burst) through the product path."""
    emb = encoder.embed_16k(torch.from_numpy(inputs["wav16_b"]))
    assert emb.shape == (1, EMBED_DIM) and emb.dtype == torch.float32
    close(emb.numpy(), load_npz("sv_embedding.npz")["emb_b"])


def test_a_batch_of_equal_length_clips_matches_upstream(encoder, inputs):
    ref = load_npz("sv_batch2.npz")
    x = torch.from_numpy(np.concatenate([inputs["wav16_a"], inputs["wav16_b"][:, :32000]]))
    emb = encoder.embed_16k(x)
    assert emb.shape == (2, EMBED_DIM)
    close(emb.numpy(), ref["emb"])
    close(emb[1:].numpy(), ref["emb_row1_alone"])


def test_embedding_of_the_32k_clip_matches_upstreams_2_get_sv(encoder):
    """32 kHz int16 / 32768 -> our resampler -> fbank -> forward3, against the tensor
    upstream's 2-get-sv.py wrote (the README: test your own 32 -> 16 kHz step with it)."""
    f = load_npz("sv_format_2_get_sv.npz")
    emb = encoder.embed_32k(torch.from_numpy(f["wav32k_int16"].astype(np.float32) / 32768.0))
    close(emb.numpy(), f["emb_pt"])


# -- files that are not the speaker model get a sentence ----------------------------------

def test_missing_file_is_a_sentence(tmp_path):
    with pytest.raises(SvModelError, match="does not exist") as info:
        SpeakerEncoder(tmp_path / "nothing.ckpt")
    assert "gsv models" in info.value.hint


def test_a_pickled_object_is_refused_unread(tmp_path):
    path = tmp_path / "evil.ckpt"
    torch.save({"conv1.weight": torch.zeros(1), "x": _Opaque()}, path)
    with pytest.raises(SvModelError, match="torch cannot read it safely"):
        SpeakerEncoder(path)


def test_other_weights_are_refused_with_what_is_wrong(tmp_path):
    path = tmp_path / "other.ckpt"
    torch.save({"model.weight": torch.zeros(3)}, path)
    with pytest.raises(SvModelError, match="1001 tensors missing, 1 unexpected"):
        SpeakerEncoder(path)


def test_a_wrong_shape_is_named(tmp_path):
    with torch.device("meta"):
        want = ERes2NetV2().state_dict()
    # Stride-0 views save one element each: a full key set without 215 MB on disk.
    state = {k: torch.zeros((), dtype=v.dtype).expand(v.shape) for k, v in want.items()}
    state["fuse34.local_att.0.weight"] = torch.zeros(()).expand(512, 2048, 1, 1)
    path = tmp_path / "wrong.ckpt"
    torch.save(state, path)
    assert path.stat().st_size < 2_000_000
    with pytest.raises(SvModelError, match=r"fuse34.local_att.0.weight has shape \[512, 2048"):
        SpeakerEncoder(path)


class _Opaque:
    def __reduce__(self):
        return (pickle.loads, (pickle.dumps(1),))
