"""The proofreading record owns the ``.list``: the journal says what every clip is (text,
review state, deleted, made by a merge), the list is its rendering.

Everything that writes the list goes through here, under the list's write lock:

- :func:`load` (the editor opening, an ASR merge, the editor seeing someone else's write):
  replays the journal; if the list was changed outside (a text editor), the change is taken
  in as a person's edit instead of being overwritten or archived away.
- :func:`merge_asr_result`: the ASR step's way to write the list; clips a person touched keep
  their text and state (see :mod:`.merge`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from engine.atomic import atomic_write_bytes
from engine.dataset.listfile import ListDocument, ListEntry, ListLine, parse_document
from engine.dataset.proofread.clips import Clip
from engine.dataset.proofread.edits import Edit
from engine.dataset.proofread.journal import (Journal, base_bytes, base_record, read_records,
                                              replay, sha256, state_record)
from engine.dataset.proofread.locks import WriteLock
from engine.dataset.proofread.merge import AsrMerge, merge_asr, take_in


def clips_from_document(doc: ListDocument) -> list[Clip]:
    return [Clip(i, ln) for i, ln in enumerate(doc.lines)]


def render_clips(clips: Sequence[Clip], bom: bool) -> bytes:
    """The .list bytes for these clips (same result as ``document_from_clips().to_bytes()``,
    without building a document: this runs on every edit of a 10,000-line list)."""
    lines = [c.line for c in clips if not c.deleted]
    data = b"".join([ln.terminated_bytes for ln in lines])  # per-line bytes are cached
    if lines and not lines[-1].eol:
        data = data[:-1]  # the file's last line had no terminator: keep it that way
    return (b"\xef\xbb\xbf" if bom else b"") + data


def document_from_clips(clips: Sequence[Clip], bom: bool) -> ListDocument:
    lines: list[ListLine] = [c.line for c in clips if not c.deleted]
    # a line that was last (no terminator) may no longer be last after an edit
    for i in range(len(lines) - 1):
        if not lines[i].eol:
            lines[i] = ListLine(lines[i].raw, "\n", lines[i].entry)
    return ListDocument(lines, bom)


@dataclass
class Loaded:
    """The record as it stands on disk (journal replayed, outside changes taken in)."""

    clips: list[Clip]
    done: list[Edit]
    undone: list[Edit]
    next_id: int
    bom: bool
    shas: set[str]
    written: list[Clip]  # what the list file holds now, as clips
    asr: dict[str, str] | None  # what the last ASR merge offered per clip
    data: bytes  # the list file's bytes as they are now on disk
    archived: Path | None = None  # a damaged journal moved aside
    recovered: bool = False  # the list was behind the journal and was rewritten
    taken_in: int = 0  # lines changed outside and taken in as edits
    fresh: bool = False  # no usable journal: the record starts from the file as it is


def load(list_file: Path, journal: Journal, *, missing_ok: bool = False,
         written: Sequence[Clip] | None = None, ours: Sequence[Clip] | None = None) -> Loaded:
    """Read the record; the caller holds the write lock. A missing list raises unless
    ``missing_ok`` (ASR's first run; a journal without its list starts over, set aside).
    ``written``/``ours``: the editor's last written and current clips, for a three-way take-in
    when the file changed under unflushed edits (default: the journal's own)."""
    try:
        data: bytes | None = list_file.read_bytes()
    except FileNotFoundError:
        if not missing_ok:
            raise
        data = None
    journal.repair_tail()  # a kill mid-append leaves half a line: drop it first
    records = read_records(journal.path) if journal.path.exists() else []
    archived = None
    if data is not None and records and records[0].get("kind") == "base":
        base = parse_document(base_bytes(records[0]))
        st = replay(records, clips_from_document(base), bom=base.bom)
        got = Loaded(st.clips, st.done, st.undone, st.next_id, st.bom, st.shas, st.clips,
                     st.asr, data)
        if st.complete and render_clips(st.clips, st.bom) == data:
            return got
        sha = sha256(data)
        if st.complete and sha in st.shas:  # our own list, a write behind (killed between)
            new = render_clips(st.clips, st.bom)
            atomic_write_bytes(list_file, new)
            got.data, got.written, got.recovered = new, list(st.clips), True
            return got
        # changed outside: take it in. The list was last written from the journal's newest
        # state (the editor flushes on close, ASR writes at once), unless the editor says
        # otherwise (its unflushed edits)
        doc = parse_document(data)
        t = take_in(written if written is not None else st.clips,
                    ours if ours is not None else st.clips, doc, st.next_id)
        got.clips, got.next_id, got.bom, got.taken_in = t.clips, t.next_id, doc.bom, t.changed
        got.done, got.undone = [], []  # old undo steps could undo someone else's edit
        new = render_clips(t.clips, doc.bom)
        if not st.complete:  # a damaged record: start a clean journal from what replayed
            got.archived = journal.archive()
            journal.append(base_record(data, list_file.name))
            got.shas = {sha256(data)}
        journal.append(state_record(t.clips, t.next_id, doc.bom, sha256(new), "outside",
                                    st.asr))
        got.shas.add(sha256(new))
        if new != data:  # unflushed edits of the editor's own went on top
            atomic_write_bytes(list_file, new)
            got.data = new
        got.written = list(t.clips)
        return got
    if records or journal.path.exists():
        archived = journal.archive()  # damaged, or its list is gone: kept for the record
    data = b"" if data is None else data
    doc = parse_document(data)
    clips = clips_from_document(doc)
    journal.append(base_record(data, list_file.name))
    return Loaded(clips, [], [], len(clips), doc.bom, {sha256(data)}, list(clips), None, data,
                  archived=archived, fresh=True)


def wav_key(list_file: Path, audio_base: Path) -> Callable[[str], str]:
    """A clip's wav path as an absolute path, resolved the way the editor finds its audio."""
    cache: dict[str, str] = {}

    def key(wav: str) -> str:
        got = cache.get(wav)
        if got is None:
            p = Path(wav)
            if not p.is_absolute():
                first = audio_base / p
                p = first if first.exists() else list_file.parent / p
            got = cache[wav] = os.path.realpath(p)  # as Path.resolve(), which ASR uses
        return got
    return key


def merge_asr_result(list_file: Path, journal_path: Path, audio_base: Path,
                     entries: list[ListEntry], *, known: set[str],
                     offered_before: dict[str, str]) -> AsrMerge:
    """Merge an ASR result into the list (entries' wav paths absolute). Takes only the short
    write lock, so it works while an editor is open; the editor sees the new journal record
    before its next write. ``known``: absolute wav paths ASR has records for;
    ``offered_before``: fallback for a record without an ASR merge yet (what older versions of
    the ASR step wrote to the list, from its records)."""
    journal = Journal(journal_path)
    try:
        with WriteLock(list_file):
            rec = load(list_file, journal, missing_ok=True)
            if rec.fresh and not rec.data:
                offered_before = {}  # no list (first run, or deleted to start over)
            key = wav_key(list_file, audio_base)
            m = merge_asr(rec.clips, entries, next_id=rec.next_id, key=key,
                          offered_before=rec.asr if rec.asr is not None else offered_before,
                          known=known)
            new = render_clips(m.clips, rec.bom)
            if m.any or new != rec.data or rec.asr != m.offered:
                journal.append(state_record(m.clips, m.next_id, rec.bom, sha256(new), "asr",
                                            m.offered))
                if new != rec.data:
                    atomic_write_bytes(list_file, new)
            m.taken_in = rec.taken_in
            return m
    finally:
        journal.close()
