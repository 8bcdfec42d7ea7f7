"""Reuses the format tests' tiny HuBERT and the small upstream SoVITS export."""
from tests.engine.format.conftest import hubert_dir, sovits_file  # noqa: F401

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Two torch threads on the shared 2-core test box thrash; one is much faster."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
