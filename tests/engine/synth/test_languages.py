"""Per-piece language handling: mixed zh/en/ja text becomes one phone sequence with BERT
features for the Chinese runs only, and odd input never crashes the frontend."""
from __future__ import annotations

import pytest
import torch

from engine.dataset.format.models import BertFeatures
from engine.synth.pipeline import Voice, phones_and_bert
from engine.text.mixed import clean_mixed


@pytest.fixture(scope="module")
def zh_voice(bert_dir):
    return Voice(gpt=None, sovits=None, bert=BertFeatures(bert_dir, "cpu", False))  # type: ignore[arg-type]


@pytest.mark.parametrize("text, mode", [
    ("你好，世界！OK，我们去公园吧。", "zh"),
    ("Hello 世界, this is GPT 4.", "zh"),
    ("今日はいい天気です。Let's go!", "ja"),
    ("你好 world，今日は。", "auto"),
    ("Just English here.", "en"),
    ("一二三 123 4.5%", "zh"),
    ("🙂 你好 🙂", "zh"),
])
def test_mixed_text_phones_and_bert_line_up(zh_voice, text, mode):
    ids, bert = phones_and_bert(zh_voice, text, mode)
    assert ids and bert.shape == (1024, len(ids))
    runs = clean_mixed(text, mode)
    zh_phones = sum(len(c.phones) for s, c in runs if s.lang == "zh")
    nonzero = int((bert.abs().sum(0) > 0).sum())
    assert nonzero == zh_phones  # BERT rows only where a Chinese run is


def test_non_chinese_text_gets_zero_bert_and_symbols_do_not_crash():
    voice = Voice(gpt=None, sovits=None)  # type: ignore[arg-type]  # no BERT needed
    for text in ("Hi.", "🙂🙂", "#@&*", "..."):
        ids, bert = phones_and_bert(voice, text, "en")
        assert ids and torch.count_nonzero(bert) == 0
