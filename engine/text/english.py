"""English G2P: upstream's dictionaries, g2p_en's homographs and neural model, as upstream.

Lookup order per token (upstream's): non-words pass through; single letters from the
dictionary (capital ``A`` -> EY1); homographs by POS tag; the dictionary; a title-case word
missing from it in the name dictionary; out-of-vocabulary words of <= 3 letters spelled out;
possessive ``'s``; compound split with wordsegment; finally g2p_en's neural prediction.

Data: upstream's own CMUdict 0.7b merge, hot words and name dictionary ship with the package
(``engine/text/data/upstream-english``, read by :mod:`engine.text.en_dict`), so phones are the
ones upstream's models were trained on. The one NLTK resource read, the averaged-perceptron
tagger in nltk's JSON form, ships too (``engine/text/data/nltk_data``), so English works
offline with no set-up; ``NLTK_DATA``, nltk's usual folders and ``<app data>/nltk_data`` are
looked at first. Nothing is downloaded.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from engine.text import en_dict
from engine.text.en_normalize import text_normalize  # noqa: F401  (the language API)

# Abbreviations the CMU dictionary reads wrongly as words; upstream removes them.
_DROPPED = ("ae", "ai", "ar", "ios", "hud", "os")
_VOICELESS = ("P", "T", "K", "F", "TH", "HH")
_SIBILANT = ("S", "Z", "SH", "ZH", "CH", "JH")
_SKIP = (" ", "<pad>", "UW", "</s>", "<s>")


# The only NLTK resource read: nltk (>= 3.9) pos_tag's tagger, three JSON files. g2p_en's
# cmudict corpus is never read (upstream's dictionaries ship with us) nor is the old pickle tagger.
_NLTK_NEEDS = ("taggers/averaged_perceptron_tagger_eng/",)
# Shipped as package data (licence and provenance in its README.md).
PACKAGED_NLTK_DATA = Path(__file__).resolve().parent / "data" / "nltk_data"


def missing_nltk_data() -> list[str]:
    """Add NLTK_DATA, <app data>/nltk_data and the packaged folder (last, so a user's copy
    wins) to nltk's search path; the names of the resources still not found (``gsv doctor``
    asks this too)."""
    import nltk

    from engine.appconfig import data_dir

    own = data_dir() / "nltk_data"
    for p in (os.environ.get("NLTK_DATA", ""), str(own), str(PACKAGED_NLTK_DATA)):
        for part in filter(None, p.split(os.pathsep)):
            if part not in nltk.data.path:
                nltk.data.path.append(part)
    missing = []
    for res in _NLTK_NEEDS:
        try:
            nltk.data.find(res)
        except LookupError:
            missing.append(res.split("/")[1])
    return missing


def nltk_data_hint(missing: list[str]) -> str:
    from engine.appconfig import data_dir

    return ("Reinstall gsv-tui (it ships the data), or run: python -m nltk.downloader -d "
            f"{data_dir() / 'nltk_data'} {' '.join(missing)} (or set NLTK_DATA to a folder "
            "holding it).")


def _nltk_paths() -> None:
    """Point nltk at its data and check it is there, so nothing is ever fetched at run time
    (a clear error says what to do)."""
    from engine.events import StepError

    missing = missing_nltk_data()
    if missing:
        raise StepError(f"English text needs NLTK data that is not on this machine: "
                        f"{', '.join(missing)} (gsv-tui ships it in {PACKAGED_NLTK_DATA}).",
                        nltk_data_hint(missing))


def _import_g2p_en():
    """g2p_en's module, imported without its import-time check, which *downloads* NLTK's
    pickle tagger and cmudict corpus when missing: we read neither, and must never touch
    the network (offline GPU boxes are common)."""
    import nltk

    real = nltk.download
    nltk.download = lambda *args, **kwargs: False
    try:
        import g2p_en.g2p as mod
    finally:
        nltk.download = real
    return mod


def _neural_g2p():
    """g2p_en's model without its own (NLTK, older) dictionary, which we never read."""
    mod = _import_g2p_en()
    real = mod.cmudict

    class _NoDict:
        @staticmethod
        def dict() -> dict:
            return {}

    mod.cmudict = _NoDict
    try:
        return mod.G2p()
    finally:
        mod.cmudict = real


class EnglishG2P:
    def __init__(self) -> None:
        _nltk_paths()
        import wordsegment
        from nltk import pos_tag
        from nltk.tokenize import TweetTokenizer

        self._model = _neural_g2p()
        self._tokenize = TweetTokenizer().tokenize
        self._pos_tag = pos_tag
        wordsegment.load()
        self._segment = wordsegment.segment
        # Word -> phone string (split on lookup); hot words already applied, as upstream.
        self.cmu: dict[str, str] = en_dict.load_dictionary()
        self.names: dict[str, str] = en_dict.load_names()
        for word in _DROPPED:
            self.cmu.pop(word, None)
        self.homographs = dict(self._model.homograph2features)
        self.homographs["read"] = (["R", "IY1", "D"], ["R", "EH1", "D"], "VBP")
        self.homographs["complex"] = (["K", "AH0", "M", "P", "L", "EH1", "K", "S"],
                                      ["K", "AA1", "M", "P", "L", "EH0", "K", "S"], "JJ")

    def __call__(self, text: str) -> list[str]:
        phones: list[str] = []
        for original, pos in self._pos_tag(self._tokenize(text)):
            word = original.lower()
            if re.search("[a-z]", word) is None:
                pron = [word]
            elif len(word) == 1:
                pron = ["EY1"] if original == "A" else en_dict.phones(self.cmu[word])
            elif word in self.homographs:
                pron1, pron2, pos1 = self.homographs[word]
                # "read" is tagged VB / VBP / VBD; a prefix of pos1 also counts (upstream).
                if pos.startswith(pos1) or (len(pos) < len(pos1) and pos == pos1[: len(pos)]):
                    pron = pron1
                else:
                    pron = pron2
            else:
                pron = self.lookup(original)
            phones += pron
        return phones

    def lookup(self, original: str) -> list[str]:
        word = original.lower()
        if len(word) > 1 and word in self.cmu:
            return en_dict.phones(self.cmu[word])
        if original.istitle() and word in self.names:  # "Aaditya", not "AADITYA" or "aaditya"
            return en_dict.phones(self.names[word])
        if len(word) <= 3:  # short unknown token: spell it
            out: list[str] = []
            for ch in word:
                if ch == "a":
                    out.append("EY1")
                elif not ch.isalpha():
                    out.append(ch)
                else:
                    out += en_dict.phones(self.cmu[ch])
            return out
        if re.match(r"^([a-z]+)('s)$", word):
            stem = list(self.lookup(word[:-2]))
            if stem[-1] in _VOICELESS:
                return stem + ["S"]
            if stem[-1] in _SIBILANT:
                return stem + ["AH0", "Z"]
            return stem + ["Z"]
        parts = self._segment(word)
        if len(parts) == 1:
            return self._model.predict(word)
        return [p for part in parts for p in self.lookup(part)]


@lru_cache(maxsize=1)
def _g2p() -> EnglishG2P:
    return EnglishG2P()


def g2p(norm_text: str) -> list[str]:
    from engine.text.symbols import symbol_to_id

    table = symbol_to_id("v2")
    out = []
    for ph in _g2p()(norm_text):
        if ph in _SKIP:
            continue
        ph = "UNK" if ph == "<unk>" else ph
        if ph in table:
            out.append(ph)
        elif ph == "'":
            out.append("-")
        # any other phone outside the table is dropped, as upstream does
    return out
