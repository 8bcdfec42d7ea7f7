"""Word error rate, for checking a recogniser against known text (tests, bench, model choice)."""
from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[^\w\s']")


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation; hyphens split words ("voice-cloning")."""
    text = unicodedata.normalize("NFKC", text).lower().replace("-", " ")
    return _PUNCT.sub(" ", text).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def wer(refs: list[str], hyps: list[str]) -> float:
    """Corpus WER: total word edits over total reference words."""
    edits = words = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        r, h = normalize_words(ref), normalize_words(hyp)
        edits += edit_distance(r, h)
        words += len(r)
    return edits / max(words, 1)
