"""Shared fixtures for the v2Pro / v2ProPlus SoVITS tests: upstream's small Pro exports
(decompressed once per session), the inputs and the decode goldens of
tests/fixtures/upstream-v2pro/ (tolerances from its README: atol = rtol = 1e-4, ids exact)."""
from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.fixtures import FIXTURES as _ALL, MANIFESTS  # noqa: F401  (re-exported)

FIXTURES = _ALL / "upstream-v2pro"
ATOL = 1e-4
VERSIONS = ("v2Pro", "v2ProPlus")
HEADERS = {"v2Pro": b"05", "v2ProPlus": b"06"}


def stem(version: str) -> str:
    return version.lower()  # file names: sovits_v2pro_*, sovits_v2proplus_*


@pytest.fixture(scope="session")
def small_pth(tmp_path_factory):
    """version -> upstream's small export for it, byte-exact as upstream's savee wrote it."""
    folder = tmp_path_factory.mktemp("upstream-pro")
    paths: dict[str, Path] = {}

    def get(version: str) -> Path:
        if version not in paths:
            p = folder / f"sovits_{stem(version)}_small.pth"
            p.write_bytes(lzma.decompress((FIXTURES / f"{p.name}.xz").read_bytes()))
            paths[version] = p
        return paths[version]

    return get


@pytest.fixture(scope="session")
def small_model(small_pth):
    from engine.models.sovits.checkpoint import build_model, read_sovits_file

    models: dict = {}

    def get(version: str):
        if version not in models:
            models[version] = build_model(read_sovits_file(small_pth(version))).eval()
        return models[version]

    return get


@pytest.fixture(scope="session")
def inputs() -> dict[str, np.ndarray]:
    return dict(np.load(FIXTURES / "inputs.npz"))


@pytest.fixture(scope="session")
def specs(inputs):
    """The two reference spectrograms, computed as upstream does (README: not stored)."""
    import torch

    from engine.models.sovits.audio import spectrogram

    return (spectrogram(torch.from_numpy(inputs["ref_wav_32k"])),
            spectrogram(torch.from_numpy(inputs["ref_wav2_32k"])))


def golden(name: str) -> dict[str, np.ndarray]:
    return dict(np.load(FIXTURES / f"{name}.npz"))


def assert_close(ours, theirs, atol: float = ATOL, rtol: float = ATOL) -> None:
    ours = np.asarray(ours.detach() if hasattr(ours, "detach") else ours)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=atol, rtol=rtol)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Single-threaded on the shared 2-core machine (spinning workers slow small ops)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
