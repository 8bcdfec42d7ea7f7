"""Punctuation shared by the language frontends: the six marks the phone table keeps."""
from __future__ import annotations

import re

PUNCTUATION = ("!", "?", "…", ",", ".", "-")
_REPEATS = re.compile(r"([!?…,.\-])([!?…,.\-])+")


def collapse_repeats(text: str) -> str:
    """A run of the kept marks becomes its first mark (upstream: "replace_consecutive_punctuation")."""
    return _REPEATS.sub(r"\1", text)
