"""Pro weight files: our exports carry upstream's two-byte header (05 v2Pro, 06 v2ProPlus)
and reload equal in fp16; versions are told by header, md5 of the official bases and key
shapes (so a Pro file re-saved as a plain zip is still Pro); a file of another version than
the project's, or a header that disagrees with the weights, is refused with a sentence."""
from __future__ import annotations

import io
import lzma
from collections import OrderedDict

import pytest
import torch

from engine.models.sovits import checkpoint as ck
from engine.models.sovits.checkpoint import (SovitsFileError, build_model, export_sovits,
                                             load_sovits, read_sovits_file,
                                             upstream_version_guess)
from engine.models.sovits.config import tiny_config
from engine.models.sovits.synthesizer import Synthesizer
from tests.helpers.fixtures import UPSTREAM_V2

from .conftest import HEADERS, VERSIONS, assert_close, golden, stem


def _plain_load(path):
    """What upstream's load_sovits_new does: put "PK" back, then an ordinary torch.load
    (weights_only here: our files hold nothing but tensors, dicts and strings)."""
    return torch.load(io.BytesIO(b"PK" + path.read_bytes()[2:]), weights_only=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_export_header_config_and_fp16_reload(version, small_model, small_pth, tmp_path,
                                              inputs, specs):
    model = small_model(version)
    path = export_sovits(model, tmp_path / f"SoVITS_weights_{version}", "alice", 3, 42,
                         exp_dir="logs/alice")
    assert path.name == "alice_e3_s42.pth"
    raw = path.read_bytes()
    assert raw[:4] == HEADERS[version] + b"\x03\x04"  # "05"/"06" over "PK", zip magic after
    assert upstream_version_guess(path) == (version, False)
    plain = _plain_load(path)
    assert list(plain) == ["weight", "config", "info"] and plain["info"] == "3epoch_42iteration"
    assert all(v.dtype == torch.float16 for v in plain["weight"].values())
    upstream = read_sovits_file(small_pth(version))
    assert list(plain["weight"]) == list(upstream.weights)  # same keys, same order: 534
    cfg = plain["config"]
    assert cfg["model"] == upstream.hparams["model"]  # version, gin 128, kernels, p_dropout 0
    assert (cfg["version"], cfg["save_weight_dir"]) == (version, f"SoVITS_weights_{version}")
    f = read_sovits_file(path, expect_version=version)
    assert (f.version, f.kind) == (version, "export")
    sd = model.state_dict()
    for k, v in f.weights.items():
        assert torch.equal(v, sd[k].half()), k
    m = build_model(f).prepare_inference()  # what load_sovits(path) returns
    g = golden(f"sovits_{stem(version)}_decode_ns0")
    assert_close(m.decode(torch.from_numpy(inputs["codes"]), torch.from_numpy(inputs["text"]),
                          [specs[0]], noise_scale=0.0, sv_emb=torch.from_numpy(inputs["sv_emb"])),
                 g["audio"])


def test_v2_export_keeps_plain_zip(tmp_path):
    path = export_sovits(Synthesizer(tiny_config("v2")), tmp_path, "plain", 1, 1)
    assert path.read_bytes()[:2] == b"PK"  # upstream's savee heads only Pro (and v3/v4)


@pytest.mark.parametrize("version", VERSIONS)
def test_pro_file_resaved_as_plain_zip_is_still_pro(version, small_pth, tmp_path):
    """Upstream's fast detector falls back to the file size for a "PK" Pro file (here: v1)
    and then fails in MRTE; we read the version from the weights."""
    p = tmp_path / "resaved.pth"
    p.write_bytes(b"PK" + small_pth(version).read_bytes()[2:])
    assert upstream_version_guess(p) == ("v1", False)
    f = read_sovits_file(p)
    assert f.version == version and f.config.gin_channels == 128
    build_model(f)


def test_header_that_disagrees_with_weights_is_refused(small_pth, tmp_path):
    p = tmp_path / "relabelled.pth"
    p.write_bytes(b"05" + small_pth("v2ProPlus").read_bytes()[2:])
    with pytest.raises(SovitsFileError, match="header says SoVITS v2Pro but its weights are "
                                              "a v2ProPlus model's") as e:
        read_sovits_file(p)
    assert "re-export" in e.value.hint
    p.write_bytes(b"06" + lzma.decompress((UPSTREAM_V2 / "sovits_v2_small.pth.xz").read_bytes())[2:])
    with pytest.raises(SovitsFileError, match="says SoVITS v2ProPlus but its weights are a v2"):
        read_sovits_file(p)


@pytest.mark.parametrize("header,name", [(b"02", "v3"), (b"03", "v3 LoRA"), (b"04", "v4 LoRA")])
def test_v3_v4_headers_are_refused_by_name(header, name, small_pth, tmp_path):
    p = tmp_path / "later.pth"
    p.write_bytes(header + small_pth("v2Pro").read_bytes()[2:])
    with pytest.raises(SovitsFileError, match=f"is a SoVITS {name} file; gsv-tui trains and "
                                              "speaks with v1, v2, v2Pro and v2ProPlus"):
        read_sovits_file(p)


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    """version -> a small export of that version (tiny models; Pro ones with their header)."""
    folder = tmp_path_factory.mktemp("tiny")
    torch.manual_seed(3)
    return {v: export_sovits(Synthesizer(tiny_config(v)), folder / v, f"m{v.lower()}", 1, 1)
            for v in ("v1", "v2", *VERSIONS)}


@pytest.mark.parametrize("file_version,project_version", [
    ("v2", "v2Pro"), ("v2", "v2ProPlus"), ("v2Pro", "v2"), ("v2ProPlus", "v2"),
    ("v2Pro", "v2ProPlus"), ("v2ProPlus", "v2Pro"), ("v1", "v2ProPlus"), ("v2ProPlus", "v1")])
def test_file_of_another_version_is_refused_with_a_sentence(file_version, project_version,
                                                            tiny_files):
    path = tiny_files[file_version]
    assert read_sovits_file(path).version == file_version
    with pytest.raises(SovitsFileError) as e:
        load_sovits(path, expect_version=project_version)
    assert str(e.value).startswith(f"{path.name} is a SoVITS {file_version} model but this "
                                   f"project uses {project_version}.")
    assert f"Pick a {project_version} SoVITS model" in e.value.hint
    assert f"--version {file_version}" in e.value.hint


def test_tiny_pro_models_round_trip(tiny_files, tmp_path):
    for version in VERSIONS:
        path = tiny_files[version]
        assert path.read_bytes()[:2] == HEADERS[version]
        f = read_sovits_file(path, expect_version=version)
        assert (f.config.gin_channels, f.config.mrte_hidden) == (48, 32)
        assert f.config.upsample_kernel_sizes[0] == (20 if version == "v2ProPlus" else 16)
        build_model(f)


def test_pretrained_base_and_training_checkpoint_layouts(tmp_path):
    """Upstream's Pro bases (s2Gv2Pro*.pth) are plain zips {weight, config} with enc_q, and
    its training checkpoints G_*.pth carry no header: both are read by their keys."""
    torch.manual_seed(5)
    model = Synthesizer(tiny_config("v2ProPlus"))
    sd = model.state_dict()
    base = tmp_path / "s2Gv2ProPlus.pth"
    torch.save({"weight": {k: v.half() for k, v in sd.items()},
                "config": {"model": model.cfg.upstream_model_dict()}}, base)
    f = read_sovits_file(base, expect_version="v2ProPlus")
    assert f.kind == "pretrained" and any(k.startswith("enc_q.") for k in f.weights)
    build_model(f)
    g = tmp_path / "G_10.pth"
    torch.save(OrderedDict(model=sd, iteration=10, optimizer={}, learning_rate=1e-4), g)
    assert g.read_bytes()[:2] == b"PK"
    assert read_sovits_file(g).kind == "train" and read_sovits_file(g).version == "v2ProPlus"


def test_md5_of_an_official_base_must_agree_with_its_weights(tmp_path, monkeypatch):
    """The official bases are known by the md5 of their first 8 KiB (upstream's table holds
    both Pro entries); a table hit whose weights say otherwise is refused."""
    import hashlib

    assert ck.PRETRAINED_MD5["c7e9fce2223f3db685cdfa1e6368728a"][1] == "v2Pro"
    assert ck.PRETRAINED_MD5["66b313e39455b57ab1b0bc0b239c9d0a"][1] == "v2ProPlus"
    torch.manual_seed(6)
    model = Synthesizer(tiny_config("v2Pro"))
    p = tmp_path / "s2Gv2Pro.pth"
    torch.save({"weight": model.state_dict(),
                "config": {"model": model.cfg.upstream_model_dict()}}, p)
    md5 = hashlib.md5(p.read_bytes()[:8192]).hexdigest()
    monkeypatch.setitem(ck.PRETRAINED_MD5, md5, ("s2Gv2Pro (v2Pro base)", "v2Pro"))
    assert upstream_version_guess(p) == ("v2Pro", False)
    assert read_sovits_file(p).base_name == "s2Gv2Pro (v2Pro base)"
    monkeypatch.setitem(ck.PRETRAINED_MD5, md5, ("s2Gv2ProPlus (v2ProPlus base)", "v2ProPlus"))
    with pytest.raises(SovitsFileError, match="md5 \\(official base\\) says SoVITS v2ProPlus"):
        read_sovits_file(p)


def test_official_base_without_config_gets_the_versions_full_size(tmp_path):
    """A base holding only {weight} is built at upstream's size for its version (gin 1024;
    ProPlus: 768 channels, kernel 20), not at v2's."""
    # Only the version-telling keys (full-size shapes) are needed to pick the config.
    weights = {ck.EMBED_KEY: torch.zeros(732, 192, dtype=torch.float16),
               ck.FIRST_UPSAMPLER: torch.zeros(768, 384, 20, dtype=torch.float16),
               "sv_emb.weight": torch.zeros(1, 1, dtype=torch.float16)}  # presence is the mark
    p = tmp_path / "s2Gv2ProPlus.pth"
    torch.save({"weight": weights}, p)
    f = read_sovits_file(p)
    assert f.version == "v2ProPlus"
    assert (f.config.gin_channels, f.config.upsample_initial_channel,
            f.config.upsample_kernel_sizes[0], f.config.p_dropout) == (1024, 768, 20, 0.0)


@pytest.mark.parametrize("version,size", [("v2Pro", 134_936_755), ("v2ProPlus", 172_755_699)])
def test_full_size_export_is_sized_and_headed_like_upstreams(version, size, tmp_path):
    with torch.device("meta"):
        model = Synthesizer(ck.default_config(version))
    model = model.to_empty(device="cpu")  # values do not matter here, sizes do: skip init
    path = export_sovits(model, tmp_path, "big", 1, 1)
    assert path.read_bytes()[:2] == HEADERS[version]
    assert upstream_version_guess(path) == (version, False)
    assert abs(path.stat().st_size - size) < 4096  # upstream's savee file (manifest)
