"""Japanese: pyopenjtalk full-context labels -> phones with prosody marks, as upstream.

Marks follow ESPnet's "g2p prosody" scheme: ``[`` pitch rise, ``]`` pitch fall, ``#``
accent-phrase boundary, ``_`` pause. ``#`` is not in the symbol table, so clean_text turns
it into UNK exactly as upstream does (a known upstream quirk we keep for weight parity).
"""
from __future__ import annotations

import re

from engine.text.punctuation import collapse_repeats

# Characters Open JTalk reads; everything else is a "mark" emitted as itself.
_JA_CHAR = r"A-Za-z\d\u3005\u3040-\u30ff\u4e00-\u9fff\uff11-\uff19\uff21-\uff3a\uff41-\uff5a\uff66-\uff9d"
_JA_RUN = re.compile(f"[{_JA_CHAR}]")
_MARK = re.compile(f"[^{_JA_CHAR}]")

_MARK_TO_PUNCT = {"：": ",", "；": ",", "，": ",", "。": ".", "！": "!", "？": "?",
                  "\n": ".", "·": ",", "、": ",", "...": "…"}


def text_normalize(text: str) -> str:
    return collapse_repeats(text)


def _feature(regex: str, label: str) -> int:
    m = re.search(regex, label)
    return int(m.group(1)) if m else -50


_DEBIAN_DIC = "/var/lib/mecab/dic/open-jtalk/naist-jdic"


def _pyopenjtalk():
    import os

    # Debian's open-jtalk-mecab-naist-jdic is the same dictionary pyopenjtalk would
    # otherwise download on first use; point it there so it never goes online.
    if "OPEN_JTALK_DICT_DIR" not in os.environ and os.path.isdir(_DEBIAN_DIC):
        os.environ["OPEN_JTALK_DICT_DIR"] = _DEBIAN_DIC
    import pyopenjtalk

    return pyopenjtalk


def g2p_prosody(text: str) -> list[str]:
    """Phones plus prosody marks for one run of Japanese text (without ^ … $ ends)."""
    pyopenjtalk = _pyopenjtalk()

    labels = pyopenjtalk.make_label(pyopenjtalk.run_frontend(text))
    out: list[str] = []
    for n, lab in enumerate(labels):
        p3 = re.search(r"\-(.*?)\+", lab).group(1)
        if p3 in "AEIOU":  # devoiced vowels are read as ordinary vowels
            p3 = p3.lower()
        if p3 == "sil":
            continue  # utterance start/end; the sentence mark comes from the text itself
        if p3 == "pau":
            out.append("_")
            continue
        out.append(p3)
        a1 = _feature(r"/A:([0-9\-]+)\+", lab)
        a2 = _feature(r"\+(\d+)\+", lab)
        a3 = _feature(r"\+(\d+)/", lab)
        f1 = _feature(r"/F:(\d+)_", lab)
        a2_next = _feature(r"\+(\d+)\+", labels[n + 1])
        if a3 == 1 and a2_next == 1 and p3 in "aeiouAEIOUNcl":
            out.append("#")
        elif a1 == 0 and a2_next == a2 + 1 and a2 != f1:
            out.append("]")
        elif a2 == 1 and a2_next == 2:
            out.append("[")
    return out


def g2p(norm_text: str) -> list[str]:
    text = norm_text.replace("％", "パーセント").lower()
    runs = _MARK.split(text)
    marks = _MARK.findall(text)
    phones: list[str] = []
    for i, run in enumerate(runs):
        if _JA_RUN.match(run):
            phones += g2p_prosody(run)
        if i < len(marks) and marks[i] != " ":
            mark = marks[i].replace(" ", "")
            phones.append(_MARK_TO_PUNCT.get(mark, mark))
    return phones
