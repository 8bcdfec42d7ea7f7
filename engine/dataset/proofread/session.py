"""A proofreading session: the clips of one ``.list``, kept on disk after every edit.

Each change goes journal first (flushed, fsynced), then an atomic rewrite of the ``.list``.
Opening replays the journal, so a session killed at any moment reopens with every edit, its
undo/redo history and review marks. Merge and split write NEW wavs under ``edits_dir``;
original audio is never written.

One editor per list (the session lock); every journal append and list write happens under the
list's short write lock, after checking that nobody else wrote since (an ASR run merging its
result, a text editor): then the session reloads the record and merges first, its own edits
winning for the clips it edited, instead of overwriting (see :mod:`.record`).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from engine.atomic import atomic_write_bytes
from engine.dataset.proofread import edits as E
from engine.dataset.proofread.audio_edit import merge_wavs, split_wav
from engine.dataset.proofread.clips import Clip
from engine.dataset.proofread.info import ClipInfo, audio_duration, load_asr_records, make_info
from engine.dataset.proofread.journal import Journal, sha256
from engine.dataset.proofread.locks import SessionLock, WriteLock
from engine.dataset.proofread.record import (Loaded, clips_from_document,  # noqa: F401
                                             document_from_clips, load, render_clips)


@dataclass(frozen=True)
class Paths:
    list_file: Path
    journal: Path
    edits_dir: Path
    audio_base: Path  # relative wav paths in the list are resolved against this folder
    asr_records: Path | None = None


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class ProofSession:
    def __init__(self, paths: Paths, *, who: str = "") -> None:
        self.paths = paths
        self.journal = Journal(paths.journal)
        self.records = load_asr_records(paths.asr_records, paths.audio_base)
        self._info: dict[str, ClipInfo] = {}
        self.recovered = False  # the list was one write behind the journal and was repaired
        # deferred: commit() journals at once but leaves the list rewrite to flush(), which the
        # editor calls right after repainting (the journal alone already makes edits safe)
        self.deferred = False
        self._pending: tuple[bytes, list[Clip]] | None = None
        self._pending_lock = threading.Lock()  # held only to swap _pending (never blocks long)
        self._stats: list[float] | None = None
        self._lb: list[bytes] | None = None  # per-clip line bytes, patched with each edit
        self.archived: Path | None = None  # a damaged journal moved aside
        self.taken_in = 0  # lines changed outside the editor, taken in as edits (last reload)
        self.reloads = 0  # bumped each time the record was reloaded from disk (redraw all)
        self._write = WriteLock(paths.list_file)
        self._session = SessionLock(paths.list_file, who).acquire()  # ListBusy: say who
        try:
            with self._write:
                self._adopt(load(paths.list_file, self.journal))
            self.opened_sha = self._written[0]  # what the list was when this editor opened
        except BaseException:
            self.journal.close()
            self._session.release()
            raise

    # ---- the record on disk ----------------------------------------------------------
    def _adopt(self, rec: Loaded) -> None:
        """Take the record as loaded (caller holds the write lock): the list on disk now
        renders these clips."""
        self.clips, self.done, self.undone = rec.clips, rec.done, rec.undone
        self.next_id, self.bom = rec.next_id, rec.bom
        self.archived = rec.archived or self.archived
        self.recovered = self.recovered or rec.recovered
        self.taken_in = rec.taken_in
        self._lb, self._stats = None, None
        with self._pending_lock:
            self._pending = None  # what was pending is in the journal, so in what we loaded
        self._written = (sha256(rec.data), list(rec.written))
        self._mark()

    def _mark(self) -> None:
        """Remember the journal and list as we left them, to see someone else's write."""
        self._journal_seen = self.journal.mark()
        self._list_seen = _stat(self.paths.list_file)

    def _outside_change(self) -> bool:
        """Did anyone else write the journal or the list since we last did (write lock held)?"""
        if self.journal.mark() != self._journal_seen:
            return True
        now = _stat(self.paths.list_file)
        if now == self._list_seen:
            return False
        try:
            data = self.paths.list_file.read_bytes()
        except FileNotFoundError:
            return True
        if sha256(data) == self._written[0]:  # rewritten with the same bytes (touch, cp)
            self._list_seen = now
            return False
        return True

    def _reload(self) -> None:
        """Load the record again and merge (write lock held). A journal that grew holds the
        other writer's records after all of ours: replay it. A list changed with the journal
        as we left it: a text editor; take its lines in, our unflushed edits winning."""
        if self.journal.mark() != self._journal_seen:
            self.journal.close()  # appends go to the journal file as it is now
            self.records = load_asr_records(self.paths.asr_records, self.paths.audio_base)
            self._info.clear()
            rec = load(self.paths.list_file, self.journal, missing_ok=True)
        else:
            rec = load(self.paths.list_file, self.journal, missing_ok=True,
                       written=self._written[1], ours=self.clips)
        self._adopt(rec)
        self.reloads += 1

    def sync(self) -> bool:
        """Take in what someone else wrote since our last write; True when anything was."""
        with self._write:
            if not self._outside_change():
                return False
            self._reload()
            return True

    def changed_outside(self) -> bool:
        """A cheap look (no lock, no hashing) for the editor's idle timer."""
        return (_stat(self.paths.list_file) != self._list_seen
                or self.journal.mark() != self._journal_seen)

    def close(self) -> None:
        try:
            if not self.flush():
                self.sync()  # someone wrote meanwhile: merging writes the list too
        finally:
            self.journal.close()
            self._session.release()

    def flush(self) -> bool:
        """Write the list if an edit is waiting for it (deferred mode). Safe from a thread:
        the newest pending bytes are taken under the lock, so writes never go back in time.
        False when someone else wrote the list or journal meanwhile: nothing is written (the
        state may only change on the thread that owns it); call :meth:`sync` there."""
        with self._write:  # (its thread lock also keeps the UI thread and the writer apart)
            with self._pending_lock:
                pending = self._pending
            if pending is None:
                return True
            if self._outside_change():
                return False
            with self._pending_lock:
                if self._pending is pending:
                    self._pending = None
            data, clips = pending
            self.journal.sync()  # the journal reaches the disk before the list does
            atomic_write_bytes(self.paths.list_file, data)
            self._written = (sha256(data), clips)
            self._list_seen = _stat(self.paths.list_file)
            return True

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

    def _apply(self, edit: E.Edit, kind: str) -> E.Edit:
        """Journal first (fsynced), then the list: a kill in between is repaired on open.
        Under the write lock, after taking in anyone else's write; the edit is placed by its
        clips' ids, which a merge keeps. Returns the edit as applied (its positions now)."""
        with self._write:
            if self._outside_change():
                self._reload()
            edit = E.relocate(self.clips, edit)
            new = E.apply_edit(self.clips, edit)
            data = self._render_patched(new, edit)
            record = {"kind": kind, **(edit.to_json() if kind == "edit" else {})}
            self.journal.append({**record, "sha": sha256(data)}, sync=not self.deferred)
            self._journal_seen = self.journal.mark()
            self._account(edit)
            self.clips = new
            with self._pending_lock:
                self._pending = (data, new)
            if not self.deferred:
                self.flush()
        return edit

    def commit(self, edit: E.Edit | None) -> E.Edit | None:
        if edit is None:
            return None
        edit = self._apply(edit, "edit")
        self.done.append(edit)
        self.undone.clear()
        self.next_id = max([self.next_id, *(i + 1 for i in edit.new_ids)])
        return edit

    def undo(self) -> E.Edit | None:
        if not self.done:
            return None
        inv = self._apply(self.done[-1].inverse(), "undo")
        self.undone.append(self.done.pop())
        return E.Edit(inv.label, inv.patches, focus=_first_id(inv))

    def redo(self) -> E.Edit | None:
        if not self.undone:
            return None
        edit = self._apply(self.undone[-1], "redo")
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

    def _current(self, pos: int) -> int:
        """``pos`` (the editor's view) in the record as it is on disk now (write lock held):
        new clip ids must come after any that another writer just gave out."""
        cid = self.clips[pos].id
        if self._outside_change():
            self._reload()
        return self.position(cid)

    def merge(self, pos: int, step: int = 1) -> E.Edit:
        with self._write:
            pos = self._current(pos)
            a, b = E.merge_sources(self.clips, pos, step)
            nid = self.next_id
            out = self._new_wav(f"merge-{a.id}-{b.id}-{nid}")
            merge_wavs(self.wav_path(a), self.wav_path(b), out)
            edit = E.merge(self.clips, pos, step, nid, self._list_path_for(out, a))
            return self.commit(edit) or edit

    def split(self, pos: int, at_s: float, cursor: int) -> E.Edit:
        with self._write:
            pos = self._current(pos)
            c = self.clips[pos]
            if c.entry is None or c.deleted:
                raise E.EditError("only a live clip can be split")
            ids = (self.next_id, self.next_id + 1)
            outs = (self._new_wav(f"split-{c.id}-{ids[0]}"),
                    self._new_wav(f"split-{c.id}-{ids[1]}"))
            split_wav(self.wav_path(c), at_s, *outs)
            edit = E.split(self.clips, pos, cursor, ids,
                           (self._list_path_for(outs[0], c), self._list_path_for(outs[1], c)))
            return self.commit(edit) or edit

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
