from __future__ import annotations

import pytest

from engine.text import clean_text
from engine.text.mixed import Segment, clean_mixed, split_languages


def test_chinese_english_mix_keeps_the_english():
    segs = split_languages("我用PyTorch训练了GPT 4模型。", "zh")
    assert segs == [Segment("我用", "zh"), Segment("PyTorch", "en"), Segment("训练了", "zh"),
                    Segment("GPT", "en"), Segment(" 4模型。", "zh")]  # digits read with Chinese
    # ...but digits between English words stay English.
    assert split_languages("用Windows 10 and Linux", "zh")[1] == Segment("Windows 10 and Linux", "en")
    parts = clean_mixed("我用PyTorch训练模型。", "zh")
    assert [s.lang for s, _ in parts] == ["zh", "en", "zh"]
    assert parts[1][1].phones == clean_text("PyTorch", "en").phones


def test_auto_mode_tells_japanese_by_kana():
    segs = split_languages("今日はいい天気ですね, nice weather. 你好世界", "auto")
    assert [s.lang for s in segs] == ["ja", "en", "zh"]


def test_english_mode_and_bad_mode():
    assert split_languages("Hello  world 你好", "en") == [Segment("Hello world 你好", "en")]
    with pytest.raises(ValueError, match="not one of"):
        split_languages("x", "ko")


def test_short_line_gets_a_leading_pause():
    parts = clean_mixed("好", "zh")
    assert parts[0][1].norm_text == ".好" and parts[0][1].phones[0] == "."
