"""The upstream ``.list`` dialect: ``wav_path|speaker|LANG|text``, one clip per line, UTF-8.

Two views of one file:

- :func:`read_list` / :func:`write_list`: the simple view, parsed clips only (what the format
  step reads). A project's own list is never written with :func:`write_list`: it belongs to
  the proofreading record, and the ASR step merges into it
  (:mod:`engine.dataset.proofread.record`).
- :func:`read_document` / :meth:`ListDocument.to_bytes`: every line kept as it was (its
  terminator, a BOM, blank lines, lines that don't split into four fields, bytes that are not
  UTF-8), so reading and writing an unedited file gives the same bytes. Upstream's labeler
  silently dropped malformed lines; here they survive every save and are flagged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from engine.atomic import atomic_write_bytes, atomic_write_text

BOM = "\ufeff"
# Keep line terminators exactly: \r\n, \n or a bare \r (old Mac files), or none at EOF.
_LINE_RE = re.compile(r"([^\r\n]*)(\r\n|\n|\r|$)")


@dataclass
class ListEntry:
    wav: str
    speaker: str
    lang: str
    text: str

    def to_line(self) -> str:
        return f"{self.wav}|{self.speaker}|{self.lang}|{self.text}"


def parse_line(line: str) -> ListEntry | None:
    """Four ``|``-separated fields (the text may itself hold ``|``); None when malformed."""
    parts = line.rstrip("\r\n").split("|", 3)
    if len(parts) != 4 or not parts[0].strip():
        return None
    return ListEntry(*parts)


def read_list(path: Path | str) -> list[ListEntry]:
    """Parsed clips only; blank and malformed lines are skipped (see :func:`read_document`)."""
    return [ln.entry for ln in read_document(path).lines if ln.entry is not None]


def write_list(path: Path | str, entries: list[ListEntry]) -> None:
    atomic_write_text(path, "".join(e.to_line() + "\n" for e in entries))


@dataclass(frozen=True)
class ListLine:
    """One physical line. ``raw`` is its text without the terminator ``eol``; ``entry`` is the
    parsed clip, or None for a blank or malformed line (kept verbatim)."""

    raw: str
    eol: str = "\n"
    entry: ListEntry | None = None

    @property
    def blank(self) -> bool:
        return not self.raw.strip()

    @property
    def malformed(self) -> bool:
        return self.entry is None and not self.blank

    def with_entry(self, entry: ListEntry) -> "ListLine":
        return replace(self, raw=entry.to_line(), entry=entry, eol=self.eol or "\n")

    def render(self) -> str:
        return self.raw + self.eol

    @cached_property
    def terminated(self) -> str:
        """The line with a terminator even if it had none (it is no longer last); cached,
        since a 10,000-line list is re-rendered on every edit."""
        return self.raw + (self.eol or "\n")

    @cached_property
    def terminated_bytes(self) -> bytes:
        return self.terminated.encode("utf-8", "surrogateescape")


def make_line(raw: str, eol: str = "\n") -> ListLine:
    return ListLine(raw=raw, eol=eol, entry=parse_line(raw))


@dataclass
class ListDocument:
    lines: list[ListLine]
    bom: bool = False

    def to_text(self) -> str:
        return (BOM if self.bom else "") + "".join(ln.render() for ln in self.lines)

    def to_bytes(self) -> bytes:
        # surrogateescape gives back any byte that was not valid UTF-8 unchanged
        return self.to_text().encode("utf-8", "surrogateescape")

    @property
    def entries(self) -> list[ListEntry]:
        return [ln.entry for ln in self.lines if ln.entry is not None]

    @property
    def malformed(self) -> list[tuple[int, ListLine]]:
        """(1-based line number, line) for every line that is neither a clip nor blank."""
        return [(i + 1, ln) for i, ln in enumerate(self.lines) if ln.malformed]


def parse_document(data: bytes) -> ListDocument:
    text = data.decode("utf-8", "surrogateescape")
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    lines: list[ListLine] = []
    pos = 0
    while pos < len(text):
        m = _LINE_RE.match(text, pos)
        assert m is not None  # the pattern always matches (possibly empty)
        lines.append(make_line(m.group(1), m.group(2)))
        pos = m.end()
    return ListDocument(lines=lines, bom=bom)


def read_document(path: Path | str) -> ListDocument:
    return parse_document(Path(path).read_bytes())


def write_document(path: Path | str, doc: ListDocument) -> None:
    atomic_write_bytes(path, doc.to_bytes())
