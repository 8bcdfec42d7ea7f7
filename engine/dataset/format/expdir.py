"""Upstream's experiment folder ``logs/<slug>/`` and our journal inside it.

Final files, in upstream's formats (spec §3.2): ``2-name2text.txt`` (name, phones, word2ph,
normalised text; tab-separated, no header), ``3-bert/<name>.pt``, ``4-cnhubert/<name>.pt``,
``5-wav32k/<name>``, ``6-name2semantic.tsv`` (header ``item_name\\tsemantic_audio``).

``gsv-format.jsonl`` (ours; upstream ignores it) records each finished clip with the keys of
its inputs, appended and fsynced per clip: after a kill the next run knows exactly which
clips are done and whether their inputs changed since.

Fanned out (engine.dataset.format.fanout), worker ``i`` journals to ``gsv-format-<i>.jsonl``
and, once its share is done, writes upstream's part files ``2-name2text-<i>.txt`` and
``6-name2semantic-<i>.tsv``; the step merges them as upstream's webui does (parts in order,
the semantic header first) and folds the part journals into ``gsv-format.jsonl``.
"""
from __future__ import annotations

import json
import os
import re
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
_PART = re.compile(r"^(2-name2text-\d+\.txt|6-name2semantic-\d+\.tsv|gsv-format-\d+\.jsonl)$")
# Folders where a write a kill cut short may have left engine.atomic's ".<name>.*.tmp".
_WRITTEN = ("", BERT_DIR, HUBERT_DIR, WAV32K_DIR, "7-sv_cn")


def part_journal(i: int) -> str:
    return f"gsv-format-{i}.jsonl"


def text_part(i: int) -> str:
    return f"2-name2text-{i}.txt"


def semantic_part(i: int) -> str:
    return f"6-name2semantic-{i}.tsv"


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

    def remove_leftovers(self) -> None:
        """Temp files of writes a kill cut short (never a final file). Only before any
        worker starts: a worker's own temp file is never taken from under it."""
        for sub in _WRITTEN:
            folder = self.root / sub
            if folder.is_dir():
                for p in folder.glob(".*.tmp"):
                    p.unlink(missing_ok=True)

    # -- journal --------------------------------------------------------------------
    def _parts(self, pattern: str) -> list[Path]:
        found = [p for p in self.root.glob(pattern) if _PART.match(p.name)]
        return sorted(found, key=lambda p: int(re.findall(r"\d+", p.name)[-1]))

    def read_journal(self) -> dict[str, ClipRecord]:
        """The main journal, then what workers of a run that never finished journaled
        (theirs are newer: the main one is only rewritten when a run ends)."""
        records: dict[str, ClipRecord] = {}
        for path in [self.root / JOURNAL, *self._parts("gsv-format-*.jsonl")]:
            if not path.is_file():
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    data = json.loads(line)
                    records[data["name"]] = ClipRecord(**data)
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a kill: that clip is simply redone
        return records

    def fold_journals(self) -> dict[str, ClipRecord]:
        """Part journals into the main one, before this run appends anything: a record a
        later run writes can then never be shadowed by an older part's."""
        records = self.read_journal()
        parts = self._parts("gsv-format-*.jsonl")
        if parts:
            self.compact(list(records.values()))
            for p in parts:
                p.unlink(missing_ok=True)
        return records

    def append(self, record: ClipRecord, part: int | None = None) -> None:
        name = JOURNAL if part is None else part_journal(part)
        append_json_line(self.root / name, asdict(record))

    def compact(self, records: list[ClipRecord]) -> None:
        atomic_write_text(self.root / JOURNAL, "".join(
            json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records))

    # -- final files ------------------------------------------------------------------
    def write_outputs(self, records: list[ClipRecord]) -> tuple[int, int]:
        return self._write_final(*_rows(records))

    def _write_final(self, text_rows: list[str], sem_rows: list[str]) -> tuple[int, int]:
        atomic_write_text(self.root / NAME2TEXT, "".join(row + "\n" for row in text_rows))
        atomic_write_text(self.root / NAME2SEMANTIC,
                          "\n".join([SEMANTIC_HEADER] + sem_rows) + "\n")
        return len(text_rows), len(sem_rows)

    def write_part(self, i: int, records: list[ClipRecord]) -> None:
        """Worker ``i``'s share in upstream's part formats (1-get-text ends its part with a
        newline, 3-get-semantic does not)."""
        text_rows, sem_rows = _rows(records)
        atomic_write_text(self.root / text_part(i), "\n".join(text_rows) + "\n")
        atomic_write_text(self.root / semantic_part(i), "\n".join(sem_rows))

    def merge_parts(self, n: int) -> tuple[int, int]:
        """Upstream's merge: each part stripped of newlines at its ends and split into rows,
        parts in order, the semantic header first. An empty part adds no row (upstream's
        would add an empty line)."""
        rows: tuple[list[str], list[str]] = ([], [])
        for i in range(n):
            for out, name in zip(rows, (text_part(i), semantic_part(i))):
                body = (self.root / name).read_text(encoding="utf-8").strip("\n")
                if body:
                    out.extend(body.split("\n"))
        return self._write_final(*rows)

    def remove_parts(self) -> None:
        """Part files and part journals, once merged and folded in (upstream removes its
        parts too: its 1Aa/1Ac would take a part file left behind as a finished part)."""
        for p in self._parts("*"):
            p.unlink(missing_ok=True)


def _rows(records: list[ClipRecord]) -> tuple[list[str], list[str]]:
    text_rows = [r.text_row for r in records if r.text_row]
    sem_rows = [f"{r.name}\t{r.semantic}" for r in records if r.text_row and r.semantic]
    return text_rows, sem_rows


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
