"""Dotted numbers of three or more parts (versions, addresses) are read digit by digit with
a 点 at every dot, as upstream's normaliser does; decimals and dates keep their reading."""
from __future__ import annotations

import pytest

from engine.text import clean_text


@pytest.mark.parametrize("text, norm", [
    ("版本v2.0.1发布了。", "版本二点零点一发布了."),  # the v goes, as Latin letters do in zh
    ("请升级到v10.2.30。", "请升级到一零点二点三零."),
    ("地址是192.168.1.1。", "地址是一九二点一六八点一点一."),
    ("1.2.3.4", "一点二点三点四"),
    ("差0.01秒，3.14。", "差零点零一秒,三点一四."),  # a decimal is still a decimal
    ("2024.01.15是版本1.2.3的日子。", "二零二四年一月十五日是版本一点二点三的日子."),  # dates first
])
def test_dotted_numbers(text, norm):
    got = clean_text(text, "zh", "v2")
    assert got.norm_text == norm
    assert sum(got.word2ph) == len(got.phones)


def test_version_string_phones():
    assert clean_text("v2.0.1", "zh", "v2").phones == [
        "EE", "er4", "d", "ian3", "l", "ing2", "d", "ian3", "y", "i1"]
