"""Suite-wide fixtures: every test gets its own app home (config, caches, models) and the
offline NLTK data for English G2P."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
NLTK_DATA = SHARED / "data" / "nltk_data"
os.environ.setdefault("NLTK_DATA", str(NLTK_DATA))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture(autouse=True)
def gsv_home(tmp_path_factory, monkeypatch) -> Path:
    home = tmp_path_factory.mktemp("gsv_home")
    monkeypatch.setenv("GSV_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED
