"""Chinese (Mandarin) G2P: normalised text -> initials/finals in upstream's v2 symbol
scheme, plus word2ph (phones per character: 2 per syllable, 1 per punctuation mark).

Pinyin comes from pypinyin per jieba word (upstream's "no G2PW" branch), or, for v2 when
G2PW's model folder is installed (``engine.text.g2pw``), from G2PW per sentence, merged per
word as upstream's G2PW branch does. We don't ship that model; ``zh_backend()`` says which
one will run, ``PINYIN_BACKEND`` which one ran last (the fixtures come from pypinyin).
"""
from __future__ import annotations

import re
from functools import lru_cache

from engine.text import g2pw, zh_normalize, zh_sandhi
from engine.text.punctuation import PUNCTUATION, collapse_repeats

PINYIN_BACKEND = "pypinyin"

_PUNCT_MAP = {"：": ",", "；": ",", "，": ",", "。": ".", "！": "!", "？": "?", "\n": ".",
              "·": ",", "、": ",", "...": "…", "$": ".", "/": ",", "—": "-", "~": "…", "～": "…"}
_PUNCT_RE = re.compile("|".join(map(re.escape, _PUNCT_MAP)))
_KEEP_RE = re.compile(r"[^\u4e00-\u9fa5" + "".join(map(re.escape, PUNCTUATION)) + "]+")
_SENTENCE_END = re.compile(r"(?<=[{0}])\s*".format("".join(map(re.escape, PUNCTUATION))))


def _replace_punctuation(text: str) -> str:
    text = text.replace("嗯", "恩").replace("呣", "母")
    return _KEEP_RE.sub("", _PUNCT_RE.sub(lambda m: _PUNCT_MAP[m.group()], text))


def text_normalize(text: str) -> str:
    return collapse_repeats("".join(_replace_punctuation(s) for s in zh_normalize.normalize(text)))


# ---- pinyin -> symbols ---------------------------------------------------------------

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h",
             "j", "q", "x", "r", "z", "c", "s", "y", "w")
_Y_FINALS = {"an": "En", "e": "E", "u": "v", "uan": "van", "ue": "ve", "un": "vn"}
_ZERO_INITIAL = {"a": "AA", "e": "EE", "o": "OO"}


def syllable_symbols(pinyin: str) -> tuple[str, str]:
    """A toneless pinyin syllable -> (initial, final) symbols (the Opencpop "strict" set:
    zero-initial syllables get AA/EE/OO or y/w, zi ci si -> i0, zhi chi shi ri -> ir,
    ü after j q x y -> v, yan -> y En, ye -> y E)."""
    initial = next((i for i in _INITIALS if pinyin.startswith(i) and len(pinyin) > len(i)), "")
    rest = pinyin[len(initial):]
    if not initial:
        if pinyin[0] not in _ZERO_INITIAL:
            raise ValueError(f"not a pinyin syllable: {pinyin!r}")
        return _ZERO_INITIAL[pinyin[0]], pinyin
    if initial == "y":
        return "y", _Y_FINALS.get(rest, rest)
    if initial in ("j", "q", "x") and rest.startswith("u"):
        return initial, "v" + rest[1:]
    if rest == "i" and initial in ("z", "c", "s"):
        return initial, "i0"
    if rest == "i" and initial in ("zh", "ch", "sh", "r"):
        return initial, "ir"
    return initial, rest


_FINAL_FIXES = {"uei": "ui", "iou": "iu", "uen": "un"}
_ZERO_WHOLE = {"ing": "ying", "i": "yi", "in": "yin", "u": "wu"}
_ZERO_FIRST = {"v": "yu", "e": "e", "i": "y", "u": "w"}


def _spelled(initial: str, final: str) -> str:
    """pypinyin's strict initial + final (e.g. '' + 'iou') -> the written syllable ('you')."""
    if initial:
        return initial + _FINAL_FIXES.get(final, final)
    if final in _ZERO_WHOLE:
        return _ZERO_WHOLE[final]
    if final[0] in _ZERO_FIRST:
        return _ZERO_FIRST[final[0]] + final[1:]
    return final


# ---- erhua ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _erhua() -> tuple[set[str], set[str]]:
    lists = zh_sandhi._lists("zh_erhua.txt")
    return lists["must"], lists["not"]


def _erhua_tones(finals: list[str], word: str, pos: str) -> list[str]:
    """儿 stays its own syllable (upstream does not merge it); at a word's end it takes
    the tone of the syllable before it, except in words where 儿 means "child"."""
    must, never = _erhua()
    if finals and word[len(finals) - 1:len(finals)] == "儿" and finals[-1] == "er1":
        finals[-1] = "er2"
    if word not in must and (word in never or pos in {"a", "j", "nr"}):
        return finals
    if len(finals) != len(word):
        return finals
    if len(word) > 1 and word[-1] == "儿" and finals[-1] in {"er2", "er5"} \
            and word[-2:] not in never:
        finals[-1] = "er" + finals[-2][-1]
    return finals


# ---- g2p -----------------------------------------------------------------------------

def _word_pinyin(word: str) -> tuple[list[str], list[str]]:
    from pypinyin import Style, lazy_pinyin

    initials = lazy_pinyin(word, neutral_tone_with_five=True, style=Style.INITIALS)
    finals = lazy_pinyin(word, neutral_tone_with_five=True, style=Style.FINALS_TONE3)
    return initials, finals


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter is not for users
    return jieba.posseg


def zh_backend() -> str:
    """"g2pw" when G2PW's model folder (and a BERT tokenizer) is installed, else "pypinyin"
    (v1 always uses pypinyin); ``engine.text.g2pw.status()`` gives the reason."""
    return g2pw.status()[0]


def _sentence(sentence: str, erhua: bool = True, conv=None) -> tuple[list[str], list[int]]:

    sentence = re.sub("[a-zA-Z]+", "", sentence)
    initials: list[str] = []
    finals: list[str] = []
    readings = g2pw.sentence_pinyin(conv, sentence) if conv else None
    end = 0
    for word, pos in zh_sandhi.pre_merge([(w.word, w.flag) for w in _jieba().lcut(sentence)]):
        start, end = end, end + len(word)
        if pos == "eng":
            continue
        if readings is None:
            ini, fin = _word_pinyin(word)
        else:
            ini, fin = g2pw.word_initials_finals(conv, word, readings[start:end])
        if any(not f or (f != i and f[-1] not in "12345") for f, i in zip(fin, ini)):
            # Rare characters whose only reading is a bare nasal (hm, ng...): upstream
            # fails on them too; say which word instead of an IndexError deep in sandhi.
            raise ValueError(f"no Mandarin syllable for {word!r} (pinyin {fin})")
        fin = zh_sandhi.modified_tone(word, pos, fin)
        initials += ini
        finals += _erhua_tones(fin, word, pos) if erhua else fin
    phones: list[str] = []
    word2ph: list[int] = []
    for c, v in zip(initials, finals):
        if c == v:  # punctuation passes through pypinyin unchanged
            phones.append(c)
            word2ph.append(1)
            continue
        try:
            ini, fin = syllable_symbols(_spelled(c, v[:-1]))
        except (ValueError, IndexError):
            raise ValueError(f"no Mandarin syllable for {c + v!r} in {sentence!r}") from None
        phones += [ini, fin + v[-1]]
        word2ph.append(2)
    return phones, word2ph


def g2p(norm_text: str, version: str = "v2") -> tuple[list[str], list[int]]:
    """v1 models were trained without the erhua rule (upstream's v1 ``chinese`` module);
    no upstream v1 fixtures exist, so v1 output is not checked phone for phone."""
    global PINYIN_BACKEND
    conv = g2pw.converter() if version != "v1" else None  # upstream's v1 has no G2PW
    PINYIN_BACKEND = "g2pw" if conv else "pypinyin"
    phones: list[str] = []
    word2ph: list[int] = []
    for sentence in _SENTENCE_END.split(norm_text):
        if sentence.strip():
            p, w = _sentence(sentence, erhua=version != "v1", conv=conv)
            phones += p
            word2ph += w
    return phones, word2ph
