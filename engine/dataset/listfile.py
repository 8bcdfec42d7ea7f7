"""The upstream ``.list`` dialect: ``wav_path|speaker|LANG|text``, one clip per line, UTF-8.

(Minimal first version; the proofreader issue owns round-tripping malformed lines.)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.atomic import atomic_write_text


@dataclass
class ListEntry:
    wav: str
    speaker: str
    lang: str
    text: str

    def to_line(self) -> str:
        return f"{self.wav}|{self.speaker}|{self.lang}|{self.text}"


def parse_line(line: str) -> ListEntry | None:
    parts = line.rstrip("\r\n").split("|", 3)
    if len(parts) != 4:
        return None
    return ListEntry(*parts)


def read_list(path: Path | str) -> list[ListEntry]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            e = parse_line(line)
            if e is not None:
                out.append(e)
    return out


def write_list(path: Path | str, entries: list[ListEntry]) -> None:
    atomic_write_text(path, "".join(e.to_line() + "\n" for e in entries))
