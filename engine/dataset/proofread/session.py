"""A proofreading session: the clips of one ``.list``, kept on disk after every edit.

Each change goes journal first (flushed, fsynced), then an atomic rewrite of the ``.list``.
Opening replays the journal, so a session killed at any moment reopens with every edit, its
undo/redo history and review marks. Merge and split write NEW wavs under ``edits_dir``;
original audio is never written.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from engine.atomic import atomic_write_bytes
from engine.dataset.listfile import ListDocument, ListLine, parse_document
from engine.dataset.proofread import edits as E
from engine.dataset.proofread.audio_edit import merge_wavs, split_wav
from engine.dataset.proofread.clips import Clip
from engine.dataset.proofread.info import ClipInfo, audio_duration, load_asr_records, make_info
from engine.dataset.proofread.journal import (Journal, base_bytes, base_record, read_records,
                                              replay, sha256)


@dataclass(frozen=True)
class Paths:
    list_file: Path
    journal: Path
    edits_dir: Path
    audio_base: Path  # relative wav paths in the list are resolved against this folder
    asr_records: Path | None = None


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


class ProofSession:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.journal = Journal(paths.journal)
        self.records = load_asr_records(paths.asr_records, paths.audio_base)
        self._info: dict[str, ClipInfo] = {}
        self.recovered = False  # the list was one write behind the journal and was repaired
        # deferred: commit() journals at once but leaves the list rewrite to flush(), which the
        # editor calls right after repainting (the journal alone already makes edits safe)
        self.deferred = False
        self._pending: bytes | None = None
        self._flush_lock = threading.Lock()  # one list write at a time, newest last
        self._pending_lock = threading.Lock()  # held only to swap _pending (never blocks long)
        self._stats: list[float] | None = None
        self._lb: list[bytes] | None = None  # per-clip line bytes, patched with each edit
        self.archived: Path | None = None  # a journal moved aside (the list changed outside)
        self._open()

    # ---- opening ---------------------------------------------------------------------
    def _open(self) -> None:
        data = self.paths.list_file.read_bytes()
        self.journal.repair_tail()  # a kill mid-append leaves half a line: drop it first
        records = read_records(self.paths.journal) if self.paths.journal.exists() else []
        if records and records[0].get("kind") == "base":
            base = parse_document(base_bytes(records[0]))
            st = replay(records, clips_from_document(base))
            if sha256(data) in st.shas:
                self.bom = base.bom
                self.clips, self.done, self.undone = st.clips, st.done, st.undone
                self.next_id = st.next_id
                if self.render() != data:
                    self._write_list()
                    self.recovered = True
                return
            self.archived = self.journal.archive()
        elif records or self.paths.journal.exists():
            self.archived = self.journal.archive()
        doc = parse_document(data)
        self.bom = doc.bom
        self.clips = clips_from_document(doc)
        self.done, self.undone = [], []
        self.next_id = len(self.clips)
        self.journal.append(base_record(data, self.paths.list_file.name))

    def close(self) -> None:
        self.flush()
        self.journal.close()

    def flush(self) -> None:
        """Write the list if an edit is waiting for it (deferred mode). Safe from a thread:
        the newest pending bytes are taken under the lock, so writes never go back in time."""
        with self._flush_lock:
            with self._pending_lock:
                data, self._pending = self._pending, None
            if data is not None:
                self.journal.sync()  # the journal reaches the disk before the list does
                atomic_write_bytes(self.paths.list_file, data)

    # ---- reading ---------------------------------------------------------------------
    def render(self) -> bytes:
        return render_clips(self.clips, self.bom)

    def wav_path(self, clip: Clip) -> Path:
        p = Path(clip.wav)
        if p.is_absolute():
            return p
        first = self.paths.audio_base / p
        if first.exists():
            return first
        return self.paths.list_file.parent / p

    def info(self, clip: Clip) -> ClipInfo:
        key = clip.wav
        got = self._info.get(key)
        if got is None:
            rec = None
            path = self.wav_path(clip) if key else None
            if path is not None:
                rec = (self.records.get(key) or self.records.get(str(path.resolve()))
                       or self.records.get(path.name))
            dur = audio_duration(path) if path is not None else None
            got = self._info[key] = make_info(dur, rec)
        return got

    def load_all_info(self) -> None:
        for c in self.clips:
            self.info(c)

    def position(self, clip_id: int) -> int:
        return E.position_of(self.clips, clip_id)

    # ---- changing --------------------------------------------------------------------
    def _write_list(self, data: bytes | None = None) -> None:
        data = self.render() if data is None else data
        with self._pending_lock:
            self._pending = data
        if not self.deferred:
            self.flush()

    def _render_patched(self, new: list[Clip], edit: E.Edit) -> bytes:
        """The list bytes after ``edit``, from per-line bytes patched like the clips (a join,
        not a pass over 10,000 clips, on every key that edits)."""
        if self._lb is None or len(self._lb) != len(self.clips):
            self._lb = [b"" if c.deleted else c.line.terminated_bytes for c in self.clips]
        lb = self._lb
        for p in edit.patches:
            lb[p.at:p.at + len(p.old)] = [b"" if c.deleted else c.line.terminated_bytes
                                          for c in p.new]
        data = b"".join(lb)
        i = len(new) - 1
        while i >= 0 and new[i].deleted:
            i -= 1
        if i >= 0 and not new[i].line.eol:
            data = data[:-1]  # the file's last line had no terminator: keep it that way
        return (b"\xef\xbb\xbf" + data) if self.bom else data

    def _apply(self, edit: E.Edit, record: dict) -> None:
        """Journal first (fsynced), then the list: a kill in between is repaired on open."""
        new = E.apply_edit(self.clips, edit)
        data = self._render_patched(new, edit)
        self.journal.append({**record, "sha": sha256(data)}, sync=not self.deferred)
        self._account(edit)
        self.clips = new
        self._write_list(data)

    def commit(self, edit: E.Edit | None) -> E.Edit | None:
        if edit is None:
            return None
        self._apply(edit, {"kind": "edit", **edit.to_json()})
        self.done.append(edit)
        self.undone.clear()
        self.next_id = max([self.next_id, *(i + 1 for i in edit.new_ids)])
        return edit

    def undo(self) -> E.Edit | None:
        if not self.done:
            return None
        inv = self.done[-1].inverse()
        self._apply(inv, {"kind": "undo"})
        self.undone.append(self.done.pop())
        return E.Edit(inv.label, inv.patches, focus=_first_id(inv))

    def redo(self) -> E.Edit | None:
        if not self.undone:
            return None
        edit = self.undone[-1]
        self._apply(edit, {"kind": "redo"})
        self.done.append(self.undone.pop())
        return E.Edit(edit.label, edit.patches, focus=edit.focus or _first_id(edit))

    def set_text(self, pos: int, text: str, accept: bool = False) -> E.Edit | None:
        return self.commit(E.set_text(self.clips, pos, text, accept=accept))

    def accept(self, pos: int) -> E.Edit | None:
        return self.commit(E.accept(self.clips, pos))

    def toggle_delete(self, pos: int) -> E.Edit | None:
        return self.commit(E.toggle_delete(self.clips, pos))

    def replace_all(self, positions: Sequence[int], find: str, repl: str) -> E.Edit | None:
        return self.commit(E.replace_all(self.clips, positions, find, repl))

    def merge(self, pos: int, step: int = 1) -> E.Edit:
        a, b = E.merge_sources(self.clips, pos, step)
        nid = self.next_id
        out = self._new_wav(f"merge-{a.id}-{b.id}-{nid}")
        merge_wavs(self.wav_path(a), self.wav_path(b), out)
        edit = E.merge(self.clips, pos, step, nid, self._list_path_for(out, a))
        self.commit(edit)
        return edit

    def split(self, pos: int, at_s: float, cursor: int) -> E.Edit:
        c = self.clips[pos]
        if c.entry is None or c.deleted:
            raise E.EditError("only a live clip can be split")
        ids = (self.next_id, self.next_id + 1)
        outs = (self._new_wav(f"split-{c.id}-{ids[0]}"), self._new_wav(f"split-{c.id}-{ids[1]}"))
        split_wav(self.wav_path(c), at_s, *outs)
        edit = E.split(self.clips, pos, cursor, ids,
                       (self._list_path_for(outs[0], c), self._list_path_for(outs[1], c)))
        self.commit(edit)
        return edit

    def _new_wav(self, stem: str) -> Path:
        """A fresh file name under edits_dir: never overwrite (an archived journal may still
        point at an older file of the same name)."""
        d = self.paths.edits_dir
        out, n = d / f"{stem}.wav", 1
        while out.exists():
            out, n = d / f"{stem}_{n}.wav", n + 1
        return out

    def _list_path_for(self, new: Path, like: Clip) -> str:
        """Written in the style of the source line: absolute if it was, else relative."""
        if Path(like.wav).is_absolute():
            return str(new.resolve())
        return os.path.relpath(new, self.paths.audio_base)

    # ---- summary ---------------------------------------------------------------------
    def _contribution(self, c: Clip) -> tuple[int, int, float]:
        if c.deleted or c.malformed or c.blank:
            return 0, 0, 0.0
        return int(c.reviewed), 1, self.info(c).duration or 0.0

    def _account(self, edit: E.Edit) -> None:
        """Keep the counters current from the patch alone (no pass over 10,000 clips)."""
        if self._stats is None:
            return
        for p in edit.patches:
            for sign, group in ((-1, p.old), (1, p.new)):
                for c in group:
                    r, n, d = self._contribution(c)
                    self._stats[0] += sign * r
                    self._stats[1] += sign * n
                    self._stats[2] += sign * d

    def stats(self) -> tuple[int, int, float]:
        """(reviewed, total live clips, kept seconds)."""
        if self._stats is None:
            acc = [0, 0, 0.0]
            for c in self.clips:
                r, n, d = self._contribution(c)
                acc[0] += r
                acc[1] += n
                acc[2] += d
            self._stats = acc
        r, n, d = self._stats
        return int(r), int(n), max(0.0, float(d))


def _first_id(edit: E.Edit) -> int | None:
    for p in edit.patches:
        for c in p.new:
            return c.id
    return None
