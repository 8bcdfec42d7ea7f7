"""Cutting the text to speak into pieces the GPT reads one at a time (spec §7.2, §7.1 step 4).

Methods keep upstream's names and behaviour so a user's habit carries over:
cut0 none · cut1 every 4 sentences (default) · cut2 about 50 characters · cut3 at 。 ·
cut4 at "." (not between digits) · cut5 at every punctuation mark. After cutting, blank
pieces go, pieces under 5 characters join the next, and each piece ends with a mark.
"""
from __future__ import annotations

import re

from engine.events import StepError

METHODS = ("cut0", "cut1", "cut2", "cut3", "cut4", "cut5")
SPLITS = frozenset("，。？！,.?!~:：—…")  # sentence marks: a cut follows each
ONLY_PUNCT = frozenset("!?…,.- ")  # a piece made only of these is dropped
CUT5_MARKS = frozenset(",.;?!、，。？！;：…")
MIN_PIECE = 5


def sentences(text: str) -> list[str]:
    """Cut after every sentence mark (marks stay attached); ``……``/``——`` count as one mark
    and a text without a final mark gets ``。``."""
    text = text.replace("……", "。").replace("——", "，")
    if not text:
        return []
    if text[-1] not in SPLITS:
        text += "。"
    out, start = [], 0
    for i, ch in enumerate(text):
        if ch in SPLITS:
            out.append(text[start:i + 1])
            start = i + 1
    return out


def _keep(pieces: list[str], marks: frozenset[str] = ONLY_PUNCT) -> list[str]:
    return [p for p in pieces if not set(p) <= marks]


def cut(text: str, method: str) -> list[str]:
    """The raw pieces of one cut method (before short pieces are merged)."""
    text = text.strip("\n")
    if method == "cut0":
        return [] if set(text) <= ONLY_PUNCT else [text]
    if method == "cut1":
        sents = sentences(text)
        starts = list(range(0, len(sents), 4))
        if len(starts) < 2:  # four sentences or fewer: unchanged
            return _keep([text])
        starts[-1] = len(sents)  # the last chunk absorbs the remainder (4..7 sentences)
        return _keep(["".join(sents[a:b]) for a, b in zip(starts, starts[1:])])
    if method == "cut2":
        sents = sentences(text)
        if len(sents) < 2:
            return [text]
        out, buf = [], ""
        for s in sents:
            buf += s
            if len(buf) > 50:
                out.append(buf)
                buf = ""
        if buf:
            out.append(buf)
        if len(out) > 1 and len(out[-1]) < 50:  # a short tail joins the previous chunk
            out[-2:] = [out[-2] + out[-1]]
        return _keep(out)
    if method == "cut3":
        return _keep(text.strip("。").split("。"))
    if method == "cut4":
        return _keep(re.split(r"(?<!\d)\.(?!\d)", text.strip(".")))
    if method == "cut5":
        out, buf = [], ""
        for i, ch in enumerate(text):
            buf += ch
            decimal = ch == "." and 0 < i < len(text) - 1 and text[i - 1].isdigit() \
                and text[i + 1].isdigit()
            if ch in CUT5_MARKS and not decimal:
                out.append(buf)
                buf = ""
        if buf:
            out.append(buf)
        return _keep(out, CUT5_MARKS)
    raise StepError(f"Unknown text split method {method!r}.", f"Use one of {', '.join(METHODS)}.")


def merge_short(pieces: list[str], threshold: int = MIN_PIECE) -> list[str]:
    """Join pieces until each has at least ``threshold`` characters; a short tail joins the
    last piece (a lone word makes the GPT ramble)."""
    if len(pieces) < 2:
        return pieces
    out, buf = [], ""
    for p in pieces:
        buf += p
        if len(buf) >= threshold:
            out.append(buf)
            buf = ""
    if buf:
        if out:
            out[-1] += buf
        else:
            out.append(buf)
    return out


def split_text(text: str, method: str = "cut1", language: str = "zh") -> list[str]:
    """Pieces ready for the GPT: cut, blank lines dropped, short pieces merged, and a final
    mark added (``.`` for English, ``。`` otherwise)."""
    joined = "\n".join(cut(text, method))
    pieces = [p for p in joined.split("\n") if p.strip()]
    if not pieces:
        raise StepError("There is no text to speak.", "Type some words (not only punctuation).")
    end = "." if language == "en" else "。"
    return [p if p[-1] in SPLITS else p + end for p in merge_short(pieces)]
