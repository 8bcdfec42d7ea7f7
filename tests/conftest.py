"""Suite-wide fixtures: every test gets its own app home (config, caches, models). The suite
reads only files inside the repository (tests/fixtures/; English G2P's NLTK data ships with
engine/text/data/), so a plain clone runs it offline."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.fixtures import forbid_reading_shared

forbid_reading_shared()
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture(autouse=True)
def gsv_home(tmp_path_factory, monkeypatch) -> Path:
    home = tmp_path_factory.mktemp("gsv_home")
    monkeypatch.setenv("GSV_HOME", str(home))
    return home
