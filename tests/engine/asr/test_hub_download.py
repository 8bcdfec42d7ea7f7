"""A real download through huggingface_hub from a local HTTP server that speaks the Hub's
file protocol (tree listing, HEAD metadata, ranged GET), reached via HF_ENDPOINT. The first
transfer of the big file is cut off mid-way; the download must still end complete."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.engine.asr.fake_hub import FakeHub, run_child, serve

FILES = {
    "model.bin": os.urandom(24_000_000),  # > huggingface_hub's 10 MB chunk: a cut keeps bytes
    "config.json": b'{"a": 1}',
    "tokenizer.json": b"{}",
    "vocabulary.txt": b"a\nb\n",
    "README.md": b"not wanted",
    "gsv-v2final-pretrained/s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt": b"gpt",
    "gsv-v2final-pretrained/s2G2333k.pth": b"G",
    "gsv-v2final-pretrained/s2D2333k.pth": b"D",
    "gsv-v2final-pretrained/unrelated.txt": b"no",
}


@pytest.fixture
def fake_hub():
    with serve(FILES, cut_once={"model.bin"}) as hub:
        yield hub


CHILD = """
import json, sys
from engine.hub import PRETRAINED, ModelSpec, ensure_model
from engine.events import Progress, event_to_dict
spec = ModelSpec("tiny-thing", "org/tiny-thing",
                 files=("model.bin", "config.json", "tokenizer.json", "vocabulary.*"))
if sys.argv[1:] == ["v2-base"]:
    spec = PRETRAINED["v2-base"]
events = []
gen = ensure_model(spec)
try:
    while True:
        events.append(event_to_dict(next(gen)))
except StopIteration as stop:
    path = str(stop.value)
except Exception as exc:  # report a StepError's text
    path = None
    events.append({"type": "error", "reason": getattr(exc, "reason", repr(exc)),
                   "hint": getattr(exc, "hint", "")})
print(json.dumps({"path": path, "events": events}))
"""


def _child(hub: FakeHub, home: Path, *args: str) -> dict:
    return run_child(CHILD, hub.url, home, *args)


def test_download_via_hf_endpoint_resumes_and_reports_progress(fake_hub, tmp_path):
    res = _child(fake_hub, tmp_path)
    assert res["path"], res["events"]
    folder = Path(res["path"])
    assert folder == tmp_path / "data" / "models" / "tiny-thing"
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        assert (folder / name).read_bytes() == FILES[name]
    assert not (folder / "README.md").exists()  # only the files the spec asks for
    progress = [e for e in res["events"] if e["type"] == "progress"]
    assert progress and any("model.bin" in e["message"] for e in progress)
    gets = [line for line in fake_hub.log if "resolve" in line and "model.bin" in line]
    assert any("bytes=" in line for line in gets), gets  # resumed with a Range request
    # a second call finds the folder and makes no request at all
    before = len(fake_hub.log)
    again = _child(fake_hub, tmp_path)
    assert again["path"] == res["path"] and again["events"] == []
    assert len(fake_hub.log) == before


def test_pretrained_base_from_a_repo_subfolder(fake_hub, tmp_path):
    """Upstream's v2 bases live in a subfolder of one repo; they land flat in their own
    folder under the models dir (file names with '=' survive URL quoting)."""
    res = _child(fake_hub, tmp_path, "v2-base")
    assert res["path"], res["events"]
    folder = Path(res["path"])
    assert folder.name == "gsv-v2final-pretrained"
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == [
        "s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt", "s2D2333k.pth", "s2G2333k.pth"]
    assert (folder / "s2G2333k.pth").read_bytes() == b"G"
    assert not (folder / "gsv-v2final-pretrained").exists()
