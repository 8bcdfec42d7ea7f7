"""Upstream's experiment folder ``logs/<slug>/`` and our journal inside it.

Final files, in upstream's formats (spec §3.2): ``2-name2text.txt`` (name, phones, word2ph,
normalised text; tab-separated, no header), ``3-bert/<name>.pt``, ``4-cnhubert/<name>.pt``,
``5-wav32k/<name>``, ``6-name2semantic.tsv`` (header ``item_name\\tsemantic_audio``).

``gsv-format.jsonl`` (ours; upstream ignores it) records each finished clip with the keys of
its inputs, appended and fsynced per clip: after a kill the next run knows exactly which
clips are done and whether their inputs changed since.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.atomic import atomic_write_text

NAME2TEXT = "2-name2text.txt"
BERT_DIR = "3-bert"
HUBERT_DIR = "4-cnhubert"
WAV32K_DIR = "5-wav32k"
NAME2SEMANTIC = "6-name2semantic.tsv"
JOURNAL = "gsv-format.jsonl"
SEMANTIC_HEADER = "item_name\tsemantic_audio"


@dataclass
class ClipRecord:
    name: str
    text_key: str = ""
    audio_key: str = ""
    sem_key: str = ""
    text_row: str | None = None  # the 2-name2text.txt line, or None when text failed
    semantic: str | None = None  # space-separated codes, or None when audio was skipped
    audio_skip: str = ""  # why the clip's audio was left out (too loud, silent, damaged)
    text_skip: str = ""  # why its text was left out (no phones, G2P failed)


class ExpDir:
    def __init__(self, root: Path) -> None:
        self.root = root

    def bert(self, name: str) -> Path:
        return self.root / BERT_DIR / f"{name}.pt"

    def hubert(self, name: str) -> Path:
        return self.root / HUBERT_DIR / f"{name}.pt"

    def wav32k(self, name: str) -> Path:
        return self.root / WAV32K_DIR / name

    def make(self) -> None:
        for sub in (BERT_DIR, HUBERT_DIR, WAV32K_DIR):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    # -- journal --------------------------------------------------------------------
    def read_journal(self) -> dict[str, ClipRecord]:
        path = self.root / JOURNAL
        records: dict[str, ClipRecord] = {}
        if not path.is_file():
            return records
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                records[data["name"]] = ClipRecord(**data)
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a kill: that clip is simply redone
        return records

    def append(self, record: ClipRecord) -> None:
        append_json_line(self.root / JOURNAL, asdict(record))

    def compact(self, records: list[ClipRecord]) -> None:
        atomic_write_text(self.root / JOURNAL, "".join(
            json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records))

    # -- final files ------------------------------------------------------------------
    def write_outputs(self, records: list[ClipRecord]) -> tuple[int, int]:
        text_rows = [r.text_row for r in records if r.text_row]
        sem_rows = [f"{r.name}\t{r.semantic}" for r in records if r.text_row and r.semantic]
        atomic_write_text(self.root / NAME2TEXT, "".join(row + "\n" for row in text_rows))
        atomic_write_text(self.root / NAME2SEMANTIC,
                          "\n".join([SEMANTIC_HEADER] + sem_rows) + "\n")
        return len(text_rows), len(sem_rows)


def append_json_line(path: Path, data: dict) -> None:
    """One journal line, appended and fsynced (the 1A journals: ours and 7-sv_cn's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        end = os.lseek(fd, 0, os.SEEK_END)
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError:
            # A full disk cut the line short: take it back, or the next run's first
            # line would be glued to it and lost as well.
            os.ftruncate(fd, end)
            raise
    finally:
        os.close(fd)


def text_row(name: str, phones: list[str], word2ph: list[int] | None, norm_text: str) -> str:
    # word2ph is written as Python's repr of a list ("[2, 2, 1]") or "None", as upstream.
    return f"{name}\t{' '.join(phones)}\t{word2ph if word2ph is not None else None}\t{norm_text}"
