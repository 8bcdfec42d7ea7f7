"""``clean_text``: one line of text in a declared language -> normalised text, phones and
word2ph, exactly as upstream's ``text/cleaner.py`` produces them (training and inference
both go through here, so the phone ids match the pretrained models' embeddings)."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from engine.text.symbols import UNK, symbol_to_id

LANGUAGES = ("zh", "en", "ja")
_MODULES = {"zh": "engine.text.chinese", "en": "engine.text.english", "ja": "engine.text.japanese"}
# Upstream reads these marks in Chinese text as longer pauses: every "," phone becomes them.
_SPECIAL = {"￥": "SP2", "^": "SP3"}


@dataclass(frozen=True)
class Cleaned:
    norm_text: str
    phones: list[str]
    word2ph: list[int] | None  # zh only: phones per character of norm_text


def clean_text(text: str, language: str, version: str = "v2") -> Cleaned:
    if language not in _MODULES:
        raise ValueError(f"language {language!r} is not supported (use one of {', '.join(LANGUAGES)})")
    module = import_module(_MODULES[language])
    special = None
    if language == "zh":
        for mark, target in _SPECIAL.items():
            if mark in text:
                text, special = text.replace(mark, ","), target
                break
    norm_text = module.text_normalize(text)
    word2ph = None
    if language == "zh":
        phones, word2ph = module.g2p(norm_text, version)
        if special:
            phones = [special if p == "," else p for p in phones]
    else:
        phones = module.g2p(norm_text)
        if language == "en" and len(phones) < 4:
            phones = [","] + phones  # upstream pads short lines with one pause
    table = symbol_to_id(version)
    phones = [p if p in table else UNK for p in phones]
    return Cleaned(norm_text, phones, word2ph)
