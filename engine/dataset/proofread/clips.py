"""A clip as the proofreader sees it: one line of the ``.list`` plus its review state.

Clips are immutable; every edit builds new ones (see :mod:`.edits`). ``id`` is stable for the
life of a journal: line order at the base, then a counter for clips made by merge and split.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from engine.dataset.listfile import ListEntry, ListLine, make_line

CJK_LANGS = {"zh", "ja", "yue", "cantonese"}


@dataclass(frozen=True)
class Clip:
    id: int
    line: ListLine
    reviewed: bool = False
    deleted: bool = False
    origin: tuple[int, ...] = ()  # ids of the clips a merge/split made this one from
    edited: bool = False  # its text was changed in the editor (shown apart from ASR text)

    @property
    def entry(self) -> ListEntry | None:
        return self.line.entry

    @property
    def malformed(self) -> bool:
        return self.line.malformed

    @property
    def blank(self) -> bool:
        return self.line.blank

    @property
    def text(self) -> str:
        return self.entry.text if self.entry else self.line.raw

    @property
    def wav(self) -> str:
        return self.entry.wav if self.entry else ""

    @property
    def lang(self) -> str:
        return self.entry.lang if self.entry else ""

    def with_text(self, text: str) -> "Clip":
        if text == self.text:
            return self
        if self.entry is None:  # a malformed line: the user may fix the raw line itself
            return replace(self, line=make_line(text, self.line.eol or "\n"), edited=True)
        return replace(self, line=self.line.with_entry(replace(self.entry, text=text)),
                       edited=True)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "raw": self.line.raw, "eol": self.line.eol}
        if self.reviewed:
            d["reviewed"] = True
        if self.deleted:
            d["deleted"] = True
        if self.origin:
            d["origin"] = list(self.origin)
        if self.edited:
            d["edited"] = True
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Clip":
        return cls(id=int(d["id"]), line=make_line(d["raw"], d.get("eol", "\n")),
                   reviewed=bool(d.get("reviewed")), deleted=bool(d.get("deleted")),
                   origin=tuple(d.get("origin", ())), edited=bool(d.get("edited")))


def norm_lang(lang: str) -> str:
    """Upstream writes ZH/EN/JA/KO/YUE, sometimes all_zh etc.; compare lower-case, bare."""
    lang = lang.strip().lower()
    return lang[4:] if lang.startswith("all_") else lang


def is_cjk(lang: str) -> bool:
    return norm_lang(lang) in CJK_LANGS


def join_separator(lang: str) -> str:
    """How two clip texts join on merge: no space for Chinese/Japanese, a space otherwise."""
    return "" if is_cjk(lang) else " "


def _cjk_char(ch: str) -> bool:
    o = ord(ch)
    return (0x3000 <= o <= 0x30FF or 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF
            or 0xFF00 <= o <= 0xFFEF)


def join_texts(a: str, b: str, lang: str) -> str:
    """Join two texts: by the clip's language, and never a space between two CJK characters
    (a mislabelled clip should not get "你好 世界")."""
    a, b = a.rstrip(), b.lstrip()
    if not a or not b:
        return a + b
    sep = "" if _cjk_char(a[-1]) and _cjk_char(b[0]) else join_separator(lang)
    return a + sep + b
