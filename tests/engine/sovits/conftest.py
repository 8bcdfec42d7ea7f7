"""Shared fixtures for the SoVITS tests: the upstream parity fixture files and the small
upstream checkpoint (decompressed once per session)."""
from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.fixtures import MANIFESTS, UPSTREAM_V2 as FIXTURES  # noqa: F401  (re-exported)

ATOL = 1e-4  # fixtures README: atol = rtol = 1e-4 on floats, exact on ids


@pytest.fixture(scope="session")
def fixture_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def upstream_small_pth(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("upstream") / "sovits_v2_small.pth"
    path.write_bytes(lzma.decompress((FIXTURES / "sovits_v2_small.pth.xz").read_bytes()))
    return path


@pytest.fixture(scope="session")
def upstream_small_model(upstream_small_pth):
    from engine.models.sovits.checkpoint import build_model, read_sovits_file

    return build_model(read_sovits_file(upstream_small_pth)).eval()


@pytest.fixture(scope="session")
def inputs() -> dict[str, np.ndarray]:
    return dict(np.load(FIXTURES / "inputs.npz"))


def golden(name: str) -> dict[str, np.ndarray]:
    return dict(np.load(FIXTURES / f"{name}.npz"))


def assert_close(ours, theirs, atol: float = ATOL, rtol: float = ATOL) -> None:
    ours = np.asarray(ours.detach() if hasattr(ours, "detach") else ours)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=atol, rtol=rtol)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """On a shared 2-core machine, torch's spinning worker threads make small ops ~15x slower;
    these tests run single-threaded and restore the setting afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
