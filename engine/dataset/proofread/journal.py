"""The append-only proofreading journal (JSON lines).

Record kinds: ``base`` (the ``.list`` bytes the session started from, base64), ``edit`` (an
:class:`~.edits.Edit`), ``undo``, ``redo`` and ``state`` (every clip with its id and review
state, written when an ASR result was merged in or a change made outside the editor was taken
in; ids are kept, so the undo history still applies). Each record after the base carries the
sha256 of the ``.list`` it produced, so reopening can tell "our own list, maybe one write behind
after a crash" from "someone else rewrote the list" (then that change is taken in, see
:mod:`.record`). Every append happens under the list's write lock (:mod:`.locks`), so the
editor and an ASR run share one journal without interleaving.
A record is written (and flushed to the OS) before the ``.list`` is rewritten, and fsynced
before the list is, so a kill at any point loses nothing: replaying the journal rebuilds the
newest state.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.dataset.proofread.clips import Clip
from engine.dataset.proofread.edits import Edit, EditError, apply_edit

VERSION = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._f = None

    def append(self, record: dict[str, Any], sync: bool = True) -> None:
        """Write one record. Flushed to the OS at once (a killed process loses nothing);
        ``sync`` also waits for the disk (power loss), else call :meth:`sync` later."""
        if self._f is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = open(self.path, "ab")
        record = {"t": round(time.time(), 3), **record}
        self._f.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        self._f.flush()
        if sync:
            os.fsync(self._f.fileno())

    def mark(self) -> tuple[int, int] | None:
        """(inode, size) of the journal file as it is on disk: another writer's append grows
        it, moving it aside changes the inode."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_size

    def sync(self) -> None:
        f = self._f
        if f is not None:
            try:
                os.fsync(f.fileno())
            except (OSError, ValueError):  # closed meanwhile: close() already flushed it
                pass

    def repair_tail(self) -> None:
        """Cut a torn last line (the process died mid-write), so the next record starts on a
        line of its own instead of extending the broken one."""
        try:
            with open(self.path, "rb+") as f:
                data = f.read()
                if data and not data.endswith(b"\n"):
                    f.truncate(data.rfind(b"\n") + 1)
        except FileNotFoundError:
            pass

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None

    def archive(self) -> Path:
        """Move the journal aside (kept for the record) so a new base can start."""
        self.close()
        dest = self.path.with_name(f"{self.path.stem}.{time.strftime('%Y%m%d-%H%M%S')}"
                                   f"{self.path.suffix}")
        n = 1
        while dest.exists():
            dest = dest.with_name(f"{dest.stem}-{n}{dest.suffix}")
            n += 1
        os.replace(self.path, dest)
        return dest


def read_records(path: Path) -> list[dict[str, Any]]:
    """All whole records; a torn last line (killed mid-write) is ignored."""
    out = []
    for line in Path(path).read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            break
    return out


def base_record(data: bytes, list_name: str) -> dict[str, Any]:
    return {"kind": "base", "v": VERSION, "list": list_name, "sha": sha256(data),
            "data": base64.b64encode(data).decode("ascii")}


def base_bytes(record: dict[str, Any]) -> bytes:
    return base64.b64decode(record["data"])


def state_record(clips: list[Clip], next_id: int, bom: bool, sha: str, by: str,
                 asr: dict[str, str] | None = None) -> dict[str, Any]:
    """Every clip as it now is. ``asr``: the text the ASR step offered per clip (by absolute
    wav path), so the next ASR run can tell its own lines from a person's."""
    rec: dict[str, Any] = {"kind": "state", "by": by, "next_id": next_id, "bom": bom,
                           "clips": [c.to_json() for c in clips], "sha": sha}
    if asr is not None:
        rec["asr"] = asr
    return rec


@dataclass
class Replayed:
    """The state a journal leads to: clips, undo/redo stacks, every list hash it wrote and
    (``asr``) the texts the last ASR merge offered."""

    clips: list[Clip]
    done: list[Edit] = field(default_factory=list)
    undone: list[Edit] = field(default_factory=list)
    shas: set[str] = field(default_factory=set)
    next_id: int = 0
    bom: bool = False
    asr: dict[str, str] | None = None
    complete: bool = True  # False: a damaged record stopped the replay


def replay(records: list[dict[str, Any]], base_clips: list[Clip], bom: bool = False
           ) -> Replayed:
    st = Replayed(clips=list(base_clips), shas={records[0]["sha"]},
                  next_id=max((c.id for c in base_clips), default=-1) + 1, bom=bom)
    for r in records[1:]:
        try:
            _step(st, r)
        except (EditError, KeyError, TypeError, ValueError):
            st.complete = False
            break  # a damaged record: stop here (the list's hash then decides what to trust)
    return st


def _step(st: Replayed, r: dict[str, Any]) -> None:
    """Apply one record; the state changes only if the whole record applies."""
    kind = r.get("kind")
    if kind == "state":
        clips = [Clip.from_json(c) for c in r["clips"]]
        st.next_id = max([st.next_id, int(r["next_id"]), *(c.id + 1 for c in clips)])
        st.clips, st.bom = clips, bool(r.get("bom", st.bom))
        if r.get("by") == "outside":  # someone else's edits: old undo steps may undo them
            st.done, st.undone = [], []
        if isinstance(r.get("asr"), dict):
            st.asr = {str(k): str(v) for k, v in r["asr"].items()}
    elif kind == "edit":
        e = Edit.from_json(r)
        st.clips = apply_edit(st.clips, e)
        st.done.append(e)
        st.undone.clear()
        st.next_id = max([st.next_id, *(i + 1 for i in e.new_ids)])
    elif kind == "undo" and st.done:
        st.clips = apply_edit(st.clips, st.done[-1].inverse())
        st.undone.append(st.done.pop())
    elif kind == "redo" and st.undone:
        st.clips = apply_edit(st.clips, st.undone[-1])
        st.done.append(st.undone.pop())
    else:
        return
    if "sha" in r:
        st.shas.add(r["sha"])
