from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.text import clean_text, cleaned_text_to_sequence, symbols
from engine.text.chinese import syllable_symbols
from tests.helpers.fixtures import TEXT


def test_tables_equal_upstream():
    for v, n in (("v1", 322), ("v2", 732)):
        want = json.loads((TEXT / f"symbols_{v}.json").read_text())
        assert list(symbols(v)) == want and len(want) == n
    assert symbols("v2Pro") == symbols("v2")  # every later model version shares the v2 table
    ids = {s: i for i, s in enumerate(symbols("v2"))}
    assert (ids["!"], ids[","], ids["UNK"], ids["_"], ids["…"], ids["["]) == (0, 1, 86, 95, 321, 322)


def test_sequence_rejects_unknown_phone():
    assert cleaned_text_to_sequence(["SP", "UNK"], "v1") == [77, 86]
    with pytest.raises(ValueError, match="not in the v2"):
        cleaned_text_to_sequence(["#"], "v2")


def test_unsupported_language_is_refused():
    with pytest.raises(ValueError, match="not supported"):
        clean_text("안녕", "ko", "v2")


def test_zh_word2ph_covers_every_character():
    got = clean_text("你好，世界！", "zh", "v2")
    assert got.norm_text == "你好,世界!"
    assert len(got.word2ph) == len(got.norm_text) and sum(got.word2ph) == len(got.phones)
    assert got.phones[:4] == ["n", "i2", "h", "ao3"]  # third-tone sandhi


def test_zh_special_pause_marks():
    assert "SP2" in clean_text("花了￥5000，多了", "zh", "v2").phones
    assert "SP3" in clean_text("安静^开始", "zh", "v2").phones


@pytest.mark.parametrize("pinyin,pair", [
    ("a", ("AA", "a")), ("er", ("EE", "er")), ("ou", ("OO", "ou")), ("yan", ("y", "En")),
    ("ye", ("y", "E")), ("yuan", ("y", "van")), ("wu", ("w", "u")), ("zhi", ("zh", "ir")),
    ("si", ("s", "i0")), ("ju", ("j", "v")), ("xue", ("x", "ve")), ("lve", ("l", "ve")),
    ("gui", ("g", "ui")), ("jiu", ("j", "iu")),
])
def test_syllable_symbols(pinyin, pair):
    assert syllable_symbols(pinyin) == pair


def test_english_short_line_gets_a_leading_pause():
    assert clean_text("Oh!", "en", "v2").phones == [",", "OW1", "!"]


def test_japanese_accent_boundary_becomes_unk():
    got = clean_text("私は学生です。", "ja", "v2")
    assert got.word2ph is None and "UNK" in got.phones and got.phones[-1] == "."


# A fresh interpreter with no NLTK data but what the package ships: NLTK_DATA unset, nltk's
# own folders dropped, HOME empty, and every network call (socket or urllib) an error. What
# the program prints is read back by the test.
_OFFLINE_ENGLISH = """
import sys
def _no_network(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
        raise OSError(f"network used: {event} {args[:2]}")
sys.addaudithook(_no_network)
import nltk
nltk.data.path[:] = []
import engine.text.english as en
if len(sys.argv) > 1:
    en.PACKAGED_NLTK_DATA = en.Path(sys.argv[1])  # a broken install: the data is gone
from engine.events import StepError
from engine.text import clean_text
try:
    print("PHONES", " ".join(clean_text("I read a book.", "en").phones))
except StepError as e:
    print("REASON", e.reason)
    print("HINT", e.hint)
"""


def _run_offline_english(tmp_path, *args: str) -> str:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "NLTK_DATA"}
    env.update(HOME=str(tmp_path), GSV_HOME=str(tmp_path / "home"))
    repo = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", _OFFLINE_ENGLISH, *args], env=env, cwd=repo,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_english_works_offline_from_the_packaged_nltk_data(tmp_path):
    """English G2P needs nothing outside the installed package: no NLTK_DATA, no set-up, no
    download (an offline GPU box speaks English too), and nothing is written under HOME."""
    out = _run_offline_english(tmp_path)
    # "read" tagged VBP by the tagger, so the present-tense homograph (R IY1 D)
    assert "PHONES AY1 R IY1 D AH0 B UH1 K ." in out, out
    assert not (tmp_path / "nltk_data").exists()


def test_english_with_its_nltk_data_missing_says_what_to_do(tmp_path):
    """A broken install (the packaged data deleted): a StepError naming the data and the
    fix, instead of g2p_en's download or a traceback."""
    out = _run_offline_english(tmp_path, str(tmp_path / "gone"))
    assert "REASON English text needs NLTK data" in out, out
    assert "averaged_perceptron_tagger_eng" in out and "nltk.downloader" in out


def test_v1_uses_the_v1_table_and_no_erhua_rule():
    # v2 gives a final 儿 the tone before it; v1 keeps pypinyin's.
    assert clean_text("这儿", "zh", "v2").phones == ["zh", "e4", "EE", "er4"]
    v1 = clean_text("这儿", "zh", "v1")
    assert v1.phones == ["zh", "e4", "EE", "er2"]
    assert all(p in symbols("v1") for p in v1.phones)
    ja = clean_text("東京タワー", "ja", "v1")  # pitch marks are not in the v1 table
    assert "[" not in ja.phones and "UNK" in ja.phones


def test_unreadable_rare_character_is_a_clear_value_error():
    # pypinyin has no syllable for 兡 (upstream fails on it too, with an IndexError).
    with pytest.raises(ValueError, match="no Mandarin syllable for '兡"):
        clean_text("兡兢", "zh")
