"""Tiny random BERT and HuBERT folders (built with transformers, saved like the hub's),
the small upstream SoVITS export from the shared fixtures, and a project whose transcript
points at clips spoken by espeak-ng."""
from __future__ import annotations

import lzma
import shutil
from pathlib import Path

import pytest

from tests.helpers.speech import have_espeak, speak

# Characters of every Chinese line the tests format (after normalisation).
ZH_CHARS = "你好世界今天天气很不错我们去公园吧一二三四五六七八九十零点"
PUNCT = ",.!?…-"


@pytest.fixture(scope="session")
def bert_dir(tmp_path_factory) -> Path:
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertForMaskedLM

    # Like the hub folder: config.json, the weights and tokenizer.json, nothing else.
    folder = tmp_path_factory.mktemp("chinese-roberta-tiny")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(set(ZH_CHARS + PUNCT))
    BertWordPieceTokenizer({t: i for i, t in enumerate(vocab)}, lowercase=True).save(
        str(folder / "tokenizer.json"))
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=3,
                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=128)
    BertForMaskedLM(cfg).save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def hubert_dir(tmp_path_factory) -> Path:
    import torch
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    folder = tmp_path_factory.mktemp("chinese-hubert-tiny")
    torch.manual_seed(0)
    # 768 wide like chinese-hubert-base (the SoVITS ssl_proj expects 768 channels); one
    # layer and thin convolutions keep it small. Strides multiply to 320: 50 frames/s.
    cfg = HubertConfig(hidden_size=768, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=64, conv_dim=(32,) * 7, num_conv_pos_embeddings=16,
                       num_conv_pos_embedding_groups=4)
    HubertModel(cfg).save_pretrained(str(folder))
    # The hub folder also holds the feature extractor's config (upstream bypasses it).
    Wav2Vec2FeatureExtractor().save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def sovits_file(tmp_path_factory, shared_dir) -> Path:
    out = tmp_path_factory.mktemp("sovits") / "sovits_v2_small.pth"
    src = shared_dir / "fixtures" / "upstream-v2" / "sovits_v2_small.pth.xz"
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
