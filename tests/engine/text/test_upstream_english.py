"""English pronunciation from upstream's own data (engine/text/data/upstream-english): the
shipped files are the recorded ones, the merge follows upstream's rules, and words read as
upstream's models were trained ("zero", "decorated", names, hot words)."""
from __future__ import annotations

import hashlib
import re

import pytest

from engine.events import StepError
from engine.text import clean_text, en_dict


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_shipped_files_are_the_ones_the_readme_records():
    readme = (en_dict.DATA / "README.md").read_text(encoding="utf-8")
    recorded = dict((name, digest) for digest, name in
                    re.findall(r"^\s+([0-9a-f]{64})  (\S+)$", readme, re.M))
    for name in (en_dict.MERGED, en_dict.HOT, en_dict.NAMES):
        assert _sha256(en_dict.DATA / name) == recorded[name], name
    # hot words and names are upstream's files unchanged (their sha256 at upstream's commit)
    assert recorded[en_dict.HOT].startswith("1c80418fe6fe5d53")
    assert recorded[en_dict.NAMES].startswith("4754f6dbae96f3e7")
    head = (en_dict.DATA / en_dict.MERGED).read_text(encoding="utf-8")[:3000]
    assert "Copyright (C) 1993-2015 Carnegie Mellon University" in head  # its licence ships


def test_shipped_dictionary_sizes_and_entries():
    words = en_dict.load_dictionary()
    names = en_dict.load_names()
    assert len(words) == 143_202 + 3  # the merge, plus the three hot words
    assert len(names) == 19_929
    assert en_dict.phones(words["zero"]) == ["Z", "IY1", "R", "OW0"]  # cmudict.rep, not -fast
    assert en_dict.phones(words["json"]) == ["JH", "EY1", "S", "AH0", "N"]  # hot word
    assert en_dict.phones(words["bizrate"])[0] == ""  # three spaces in cmudict.rep, as upstream


def _write_cmu(path, entries: list[str]) -> None:
    header = [";;; header line"] * 56  # upstream reads cmudict.rep from line 57
    path.write_text("\n".join(header + entries) + "\n", encoding="utf-8")


def test_merge_follows_upstreams_rules(tmp_path):
    _write_cmu(tmp_path / "cmudict.rep", ["ZERO  Z IY1 R OW0", "ZERO(1)  Z IH1 R OW0",
                                          "BIZRATE   B IH1 Z", "ONLY  OW1 N L IY0  EXTRA"])
    (tmp_path / "cmudict-fast.rep").write_text(
        "ZERO Z IH1 R OW0\nFASTONLY F AE1 S T\n", encoding="utf-8")
    n = en_dict.build_merged(tmp_path / "cmudict.rep", tmp_path / "cmudict-fast.rep",
                             tmp_path / en_dict.MERGED)
    assert n == 5
    (tmp_path / en_dict.HOT).write_text("FASTONLY S L OW1\nCONDA K AA1 N D AH0", encoding="utf-8")
    words = {w: en_dict.phones(e) for w, e in en_dict.load_dictionary(tmp_path).items()}
    assert words == {
        "zero": ["Z", "IY1", "R", "OW0"],  # cmudict-fast only fills missing words
        "zero(1)": ["Z", "IH1", "R", "OW0"],
        "bizrate": ["", "B", "IH1", "Z"],
        "only": ["OW1", "N", "L", "IY0"],  # up to a second double space, as upstream splits
        "fastonly": ["S", "L", "OW1"],  # hot words replace any entry
        "conda": ["K", "AA1", "N", "D", "AH0"],
    }
    merged = (tmp_path / en_dict.MERGED).read_text(encoding="utf-8")
    assert merged.startswith(";;; header line\n")  # the licence header is kept


def test_missing_data_is_a_sentence(tmp_path):
    with pytest.raises(StepError) as err:
        en_dict.load_dictionary(tmp_path)
    assert str(tmp_path / en_dict.MERGED) in err.value.reason
    assert "Reinstall" in err.value.hint
    (tmp_path / en_dict.NAMES).write_bytes(b"\xff\xfe bad")
    with pytest.raises(StepError):
        en_dict.load_names(tmp_path)


def _phones(text: str) -> list[str]:
    return clean_text(text, "en", "v2").phones


def test_zero_and_decorated_read_as_upstream():
    assert _phones("Zero is decorated.") == [
        "Z", "IY1", "R", "OW0", "IH1", "Z", "D", "EH1", "K", "ER0", "EY2", "T", "AH0", "D", "."]


def test_title_case_names_come_from_the_name_dictionary():
    assert _phones("Aaditya and Aarav met Abagail.") == [
        "AA0", "D", "IY1", "T", "Y", "AH0", "AH0", "N", "D", "AA1", "R", "AA0", "V",
        "M", "EH1", "T", "AE1", "B", "AH0", "G", "EY2", "L", "."]
    # only a title-case word is a name: lower case goes the out-of-vocabulary way
    lower = _phones("aaditya")
    assert lower != ["AA0", "D", "IY1", "T", "Y", "AH0"]


def test_hot_words_override_the_dictionary():
    assert _phones("I use conda and json, Conda too.") == [
        "AY1", "Y", "UW1", "Z", "K", "AA1", "N", "D", "AH0", "AH0", "N", "D",
        "JH", "EY1", "S", "AH0", "N", ",", "K", "AA1", "N", "D", "AH0", "T", "UW1", "."]
