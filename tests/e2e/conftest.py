"""The e2e journey reuses the format tests' tiny BERT/HuBERT folders and the small upstream
SoVITS exports (session fixtures); the v2ProPlus journey also the full-size random-weight
speaker model, installed in the test's models folder as `gsv models` would."""
import lzma
from pathlib import Path

import pytest

from tests.engine.format.conftest import bert_dir, hubert_dir, sovits_file  # noqa: F401
from tests.helpers.fixtures import FIXTURES

V2PRO = FIXTURES / "upstream-v2pro"


@pytest.fixture(scope="session")
def sovits_v2proplus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sovits") / "sovits_v2proplus_small.pth"
    out.write_bytes(lzma.decompress((V2PRO / "sovits_v2proplus_small.pth.xz").read_bytes()))
    return out


@pytest.fixture(scope="session")
def sv_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sv") / "pretrained_eres2netv2w24s4ep4.ckpt"
    out.write_bytes(lzma.decompress((V2PRO / "sv_eres2netv2w24s4ep4_random.ckpt.xz").read_bytes()))
    return out


@pytest.fixture
def sv_model(sv_file, gsv_home) -> Path:
    """The speaker model where the hub looks (this test's GSV_HOME models folder)."""
    from engine.hub import PRETRAINED, default_dir

    dest = default_dir(PRETRAINED["sv"])
    dest.mkdir(parents=True, exist_ok=True)
    (dest / sv_file.name).symlink_to(sv_file)
    return dest / sv_file.name
