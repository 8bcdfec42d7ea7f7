"""Shared fixtures for the GPT tests: upstream's small checkpoint and golden arrays."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers.fixtures import MANIFESTS, UPSTREAM_V2 as FIXTURES

MANIFEST = MANIFESTS / "gpt_v2_export.json"


def golden(name: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / f"{name}.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="session")
def small_ckpt() -> Path:
    return FIXTURES / "gpt_v2_small-e1.ckpt"


@pytest.fixture(scope="session")
def inputs() -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in golden("inputs").items() if k.startswith("gpt_")}


@pytest.fixture(scope="session")
def small_model(small_ckpt):
    from engine.models.gpt import load_gpt
    return load_gpt(small_ckpt).model


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread; two threads on a shared 2-core box thrash
    (20 s instead of 1 s for a training test)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
