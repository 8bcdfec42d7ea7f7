"""The full-size ERes2NetV2 with upstream's fixture weights (sparse random, 215 MB once
decompressed) and upstream's outputs for it, from tests/fixtures/upstream-v2pro/."""
from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.fixtures import FIXTURES

V2PRO = FIXTURES / "upstream-v2pro"


def load_npz(name: str) -> dict[str, np.ndarray]:
    with np.load(V2PRO / name) as data:
        return dict(data)


def close(got: np.ndarray, ref: np.ndarray, max_abs: float = 1e-3, rel_l2: float = 1e-4
          ) -> tuple[float, float]:
    """The README's embedding tolerance: max abs and relative L2 (both must hold)."""
    got, ref = np.asarray(got, np.float64).reshape(ref.shape), np.asarray(ref, np.float64)
    diff = got - ref
    worst, rel = float(np.abs(diff).max()), float(np.linalg.norm(diff) / np.linalg.norm(ref))
    assert worst <= max_abs and rel <= rel_l2, (worst, rel)
    return worst, rel


@pytest.fixture(scope="session")
def sv_ckpt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sv") / "pretrained_eres2netv2w24s4ep4.ckpt"
    out.write_bytes(lzma.decompress((V2PRO / "sv_eres2netv2w24s4ep4_random.ckpt.xz").read_bytes()))
    return out


@pytest.fixture(scope="session")
def encoder(sv_ckpt):
    from engine.models.sv import SpeakerEncoder

    return SpeakerEncoder(sv_ckpt)


@pytest.fixture(scope="session")
def inputs() -> dict[str, np.ndarray]:
    return load_npz("inputs.npz")
