"""Text cutting as upstream's WebUI does it (spec §7.2)."""
from __future__ import annotations

import pytest

from engine.events import StepError
from engine.synth.split import cut, merge_short, sentences, split_text


def test_sentences_keep_marks_and_close_the_text():
    assert sentences("你好，世界") == ["你好，", "世界。"]
    assert sentences("等等……好——吧") == ["等等。", "好，", "吧。"]


def test_cut1_groups_four_sentences_and_the_last_chunk_absorbs_the_rest():
    three = "一。二。三。"
    assert cut(three, "cut1") == [three]
    six = "".join(f"{i}句。" for i in range(6))
    assert cut(six, "cut1") == [six]
    nine = [f"{i}句。" for i in range(9)]
    assert cut("".join(nine), "cut1") == ["".join(nine[:4]), "".join(nine[4:])]


def test_cut2_about_fifty_characters():
    sents = ["这是一个十个字的句子。"] * 12  # 11 characters each
    out = cut("".join(sents), "cut2")
    assert out == ["".join(sents[:5]), "".join(sents[5:])]  # 55, then a 77-char tail
    assert cut("只有一句", "cut2") == ["只有一句"]


def test_cut3_cut4_cut5():
    assert cut("第一句。第二句。", "cut3") == ["第一句", "第二句"]
    assert cut("It costs 3.14 euros. Next one.", "cut4") == ["It costs 3.14 euros", " Next one"]
    assert cut("a,b.3.5c！", "cut5") == ["a,", "b.", "3.5c！"]
    assert cut("...", "cut0") == []


def test_merge_short_pieces():
    assert merge_short(["a。", "bc。", "defgh。"]) == ["a。bc。", "defgh。"]
    assert merge_short(["long enough", "x"]) == ["long enoughx"]


def test_split_text_end_marks_and_refusals():
    assert split_text("Hello there friend", "cut0", "en") == ["Hello there friend."]
    assert split_text("第一句话很长。第二句话也很长", "cut3", "zh") == ["第一句话很长。", "第二句话也很长。"]
    with pytest.raises(StepError, match="no text"):
        split_text("……", "cut1")
    with pytest.raises(StepError, match="Unknown"):
        split_text("hi", "cut9")


def test_cut1_boundaries_five_to_eight_sentences_stay_one_piece():
    for n in (5, 8):
        text = "".join(f"第{i}句。" for i in range(n))
        assert cut(text, "cut1") == [text]
    twelve = [f"第{i}句。" for i in range(12)]
    assert cut("".join(twelve), "cut1") == ["".join(twelve[:4]), "".join(twelve[4:])]


def test_split_text_default_is_cut1_and_merges_a_short_first_piece():
    assert split_text("Hi. This is a longer sentence here", "cut4", "en") == \
        ["Hi This is a longer sentence here."]
    assert split_text("甲。乙丙丁戊己庚。", "cut3") == ["甲乙丙丁戊己庚。"]
    long = "".join(f"第{i}句话。" for i in range(9))
    assert split_text(long) == cut(long, "cut1")
