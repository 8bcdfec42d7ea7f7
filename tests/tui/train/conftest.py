"""A tiny trainable project per test and the gate directory its jobs wait on."""
from __future__ import annotations

import pytest

from tests.engine.train.tiny import make_project


@pytest.fixture
def tiny(tmp_path):
    return make_project(tmp_path / "voice")


@pytest.fixture
def gate(tmp_path, monkeypatch):
    """GSV_TEST_GATE for jobs submitted by this test (children inherit the environment)."""
    folder = tmp_path / "gate"
    folder.mkdir()

    def at(step: int):
        monkeypatch.setenv("GSV_TEST_GATE", f"{folder}:{step}")
        return folder

    return at
