"""Downloads through a local server speaking the Hub's file protocol (as in
test_hub_download): a pinned revision is the one every request asks for, and a file whose
sha256 is not the declared one is removed and refused with a sentence."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.engine.asr.fake_hub import FakeHub, run_child, serve

PIN = "0123456789abcdef0123456789abcdef01234567"
FILES = {
    "model.bin": b"weights " * 1000,
    "config.json": b'{"a": 1}',
    "chinese-hubert-base/config.json": b"{}",
    "chinese-hubert-base/preprocessor_config.json": b"{}",
    "chinese-hubert-base/pytorch_model.bin": b"not the published HuBERT",
}


@pytest.fixture
def hub():
    with serve(FILES) as fake:
        yield fake


CHILD = """
import json, sys
from engine.hub import PRETRAINED, ModelSpec, ensure_model
if sys.argv[1] == "hubert":
    spec = PRETRAINED["hubert"]
else:
    spec = ModelSpec("tiny", "org/tiny", files=("model.bin", "config.json"),
                     revision=sys.argv[2], sha256=(("model.bin", sys.argv[3]),))
gen = ensure_model(spec)
try:
    while True:
        next(gen)
except StopIteration as stop:
    print(json.dumps({"path": str(stop.value)}))
except Exception as exc:
    print(json.dumps({"reason": getattr(exc, "reason", repr(exc)), "hint": getattr(exc, "hint", "")}))
"""


def _child(hub: FakeHub, home: Path, *args: str) -> dict:
    return run_child(CHILD, hub.url, home, *args)


def test_a_pinned_revision_is_what_every_request_asks_for(hub, tmp_path):
    good = hashlib.sha256(FILES["model.bin"]).hexdigest()
    res = _child(hub, tmp_path, "tiny", PIN, good)
    assert "path" in res, res
    assert (Path(res["path"]) / "model.bin").read_bytes() == FILES["model.bin"]
    files = [line for line in hub.log if "/resolve/" in line]
    assert files and all(f"/resolve/{PIN}/" in line for line in files), files
    listing = [line for line in hub.log if "/api/models/" in line]
    assert listing and all(PIN in line for line in listing), listing


def test_a_file_that_is_not_the_declared_one_is_removed_and_refused(hub, tmp_path):
    res = _child(hub, tmp_path, "tiny", PIN, "ab" * 32)
    assert "is not the published file" in res["reason"] and "model.bin" in res["reason"]
    assert "Run again" in res["hint"]
    assert not (tmp_path / "data" / "models" / "tiny" / "model.bin").exists()


def test_upstreams_published_digest_guards_the_hubert_download(hub, tmp_path):
    """PRETRAINED["hubert"] declares nothing itself: upstream's published sha256 for
    chinese-hubert-base/pytorch_model.bin applies, and the fake file fails it."""
    res = _child(hub, tmp_path, "hubert")
    assert "pytorch_model.bin from lj1995/GPT-SoVITS is not the published file" in res["reason"]
    folder = tmp_path / "data" / "models" / "chinese-hubert-base"
    assert not (folder / "pytorch_model.bin").exists()
