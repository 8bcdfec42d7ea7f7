"""G2PW polyphone disambiguation for the Chinese frontend, when its model is installed.

Upstream GPT-SoVITS (v2 and later) reads every Chinese sentence with G2PW, a BERT classifier
exported to ONNX, and pypinyin only for what G2PW leaves out. We use it when the folder
``<models dir>/G2PWModel/`` holds the unzipped G2PWModel_1.1 files (``data.REQUIRED_FILES``)
and a BERT tokenizer is found (``tokenizer.json`` or ``vocab.txt`` in that folder, else in
the ``chinese-roberta-wwm-ext-large`` folder); otherwise the frontend stays on pypinyin.
``status()`` says which, and why.

Word-level corrections (upstream's ``polyphonic.rep`` + ``polyphonic-fix.rep``) apply when
those files are put in the G2PWModel folder too; they are upstream data we do not ship.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from engine.text.g2pw.data import FOLDER_NAME, REQUIRED_FILES, load_data, missing_files
from engine.text.g2pw.tokenizer import tokenizer_file

__all__ = ["FOLDER_NAME", "REQUIRED_FILES", "status", "converter", "sentence_pinyin",
           "correct_pronunciation", "word_initials_finals"]

log = logging.getLogger(__name__)


def model_folder() -> Path:
    from engine.appconfig import models_dir

    return models_dir() / FOLDER_NAME


def find_tokenizer(folder: Path) -> Path | None:
    own = tokenizer_file(folder)
    if own:
        return own
    from engine.hub import PRETRAINED, default_dir, resolve_local

    spec = PRETRAINED["bert"]
    found = tokenizer_file(default_dir(spec))
    if found:
        return found
    try:
        return tokenizer_file(resolve_local(spec))  # a complete copy in the HF cache
    except Exception:  # noqa: BLE001 - no usable cache is simply "not found"
        return None


def _resolve() -> tuple[str, str, Path | None]:
    folder = model_folder()
    if not folder.is_dir():
        return "pypinyin", f"no {FOLDER_NAME} folder in {folder.parent}", None
    missing = missing_files(folder)
    if missing:
        return "pypinyin", f"{folder} lacks {', '.join(missing)}", None
    tok = find_tokenizer(folder)
    if tok is None:
        return "pypinyin", (f"no BERT tokenizer (tokenizer.json or vocab.txt) in {folder} "
                            "or in the chinese-roberta-wwm-ext-large folder"), None
    return "g2pw", f"G2PW model {folder}, tokenizer {tok}", tok


def status() -> tuple[str, str]:
    """("g2pw" | "pypinyin", one sentence saying why)."""
    backend, why, _ = _resolve()
    return backend, why


def converter():
    """The G2PW converter for the installed folder, or None (pypinyin; see ``status``).
    One per folder and tokenizer; its ONNX session is created on first use."""
    backend, _, tok = _resolve()
    if backend != "g2pw":
        return None
    return _converter(str(model_folder()), str(tok))


@lru_cache(maxsize=4)
def _converter(folder: str, tokenizer: str):
    from engine.text.g2pw.predictor import G2PWConverter

    log.info("Chinese polyphones: G2PW from %s (tokenizer %s)", folder, tokenizer)
    return G2PWConverter(load_data(Path(folder)), Path(tokenizer))


def _is_han(c: str) -> bool:
    from pypinyin.constants import RE_HANS

    return bool(RE_HANS.match(c))


def sentence_pinyin(conv, sentence: str) -> list[str]:
    """One reading per character: TONE3 pinyin for Han characters (runs of them go to G2PW
    as one sentence each), the character itself for anything else (punctuation)."""
    out: list[str] = []
    i = 0
    while i < len(sentence):
        j = i
        while j < len(sentence) and _is_han(sentence[j]):
            j += 1
        if j > i:
            out += conv.sentence(sentence[i:j])
            i = j
        else:
            out.append(sentence[i])
            i += 1
    return out


def correct_pronunciation(word: str, readings: list[str], words: dict[str, list[str]]) -> list[str]:
    """Upstream's word dictionary: a whole-word entry replaces the readings; otherwise each
    character with its own entry takes that entry's first reading."""
    if word in words:
        return list(words[word])
    readings = list(readings)
    for k, c in enumerate(word[:len(readings)]):
        if c in words and words[c]:
            readings[k] = words[c][0]
    return readings


def word_initials_finals(conv, word: str, readings: list[str]) -> tuple[list[str], list[str]]:
    """A jieba word's readings -> pypinyin's strict initials and FINALS_TONE3 (neutral 5);
    punctuation passes through as both."""
    from pypinyin.contrib.tone_convert import to_finals_tone3, to_initials

    if conv.data.words:
        readings = correct_pronunciation(word, readings, conv.data.words)
    initials, finals = [], []
    for r in readings:
        if r[:1].isalpha():  # a Han char left without a reading fails later, as upstream
            initials.append(to_initials(r))
            finals.append(to_finals_tone3(r, neutral_tone_with_five=True))
        else:
            initials.append(r)
            finals.append(r)
    return initials, finals
