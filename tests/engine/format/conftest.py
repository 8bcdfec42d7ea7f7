"""Tiny random BERT and HuBERT folders (built with transformers, saved like the hub's),
the small upstream SoVITS export from tests/fixtures, and a project whose transcript
points at clips spoken by espeak-ng."""
from __future__ import annotations

import lzma
import shutil
from pathlib import Path

import pytest

from tests.helpers.fixtures import UPSTREAM_V2
from tests.helpers.speech import have_espeak, speak
from tests.helpers.tiny_feature_models import build_bert, build_hubert


@pytest.fixture(scope="session")
def bert_dir(tmp_path_factory) -> Path:
    return build_bert(tmp_path_factory.mktemp("chinese-roberta-tiny"), hidden=16, layers=3)


@pytest.fixture(scope="session")
def hubert_dir(tmp_path_factory) -> Path:
    return build_hubert(tmp_path_factory.mktemp("chinese-hubert-tiny"))


@pytest.fixture(scope="session")
def sovits_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sovits") / "sovits_v2_small.pth"
    src = UPSTREAM_V2 / "sovits_v2_small.pth.xz"
    out.write_bytes(lzma.decompress(src.read_bytes()))
    return out


@pytest.fixture(scope="session")
def speech_bank(tmp_path_factory) -> dict[str, Path]:
    if not have_espeak():
        pytest.fail("espeak-ng is required (installed by scripts/setup.sh)")
    folder = tmp_path_factory.mktemp("speech")
    texts = {"a": "Good morning, this is a test.", "b": "The weather is nice today.",
             "c": "Numbers one two three.", "d": "We are going to the park.",
             "e": "Another short sentence here.", "f": "Speech for the format step."}
    return {k: speak(t, folder / f"{k}.wav") for k, t in texts.items()}


LINES = [
    ("a.wav", "ZH", "你好，世界！"),
    ("b.wav", "EN", "The weather is nice today."),
    ("c.wav", "JA", "今日はいい天気です。"),
    ("d.wav", "zh", "我们去公园吧。"),
]


@pytest.fixture
def project(tmp_path, speech_bank) -> Path:
    from engine.project import create_project

    root = tmp_path / "proj"
    p = create_project(root, "Voice", language="zh")
    write_list(p.layout.list_file, root, speech_bank, LINES)
    return root


def write_list(list_file: Path, root: Path, bank: dict[str, Path], lines) -> None:
    slices = root / "audio" / "slices"
    slices.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, lang, text in lines:
        if not (slices / name).exists():
            shutil.copy(bank[name[0]], slices / name)
        rows.append(f"audio/slices/{name}|voice|{lang}|{text}")
    list_file.parent.mkdir(parents=True, exist_ok=True)
    list_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
