"""Edits as data, applied by pure functions.

Every change is an :class:`Edit`: one or more :class:`Patch` es, each replacing a run of clips
at a position with another run. The inverse of a patch swaps ``old`` and ``new``, so undo and
redo need no per-operation code, and the journal can replay any edit from its JSON form.
Builders (``set_text``, ``merge`` …) only compute edits; they never touch files: the session
writes the new wavs a merge or split refers to before applying the edit.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

from engine.dataset.listfile import ListEntry
from engine.dataset.proofread.clips import Clip, join_texts


class EditError(ValueError):
    """An edit that cannot apply here (wrong clip, nothing to merge with …), said plainly."""


@dataclass(frozen=True)
class Patch:
    at: int
    old: tuple[Clip, ...]
    new: tuple[Clip, ...]

    def inverse(self) -> "Patch":
        return Patch(self.at, self.new, self.old)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "old": [c.to_json() for c in self.old],
                "new": [c.to_json() for c in self.new]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Patch":
        return cls(int(d["at"]), tuple(Clip.from_json(c) for c in d["old"]),
                   tuple(Clip.from_json(c) for c in d["new"]))


@dataclass(frozen=True)
class Edit:
    label: str
    patches: tuple[Patch, ...]
    focus: int | None = None  # clip id to put the cursor on after applying

    def inverse(self) -> "Edit":
        return Edit(f"undo {self.label}", tuple(p.inverse() for p in reversed(self.patches)))

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"label": self.label, "patches": [p.to_json() for p in self.patches]}
        if self.focus is not None:
            d["focus"] = self.focus
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Edit":
        return cls(d["label"], tuple(Patch.from_json(p) for p in d["patches"]), d.get("focus"))

    @property
    def new_ids(self) -> list[int]:
        return [c.id for p in self.patches for c in p.new]


def locate(clips: Sequence[Clip], p: Patch) -> int:
    """Where the patch's clips are now: at ``p.at``, or wherever that run of ids moved (an ASR
    merge or a change from outside the editor may add or drop clips before it; ids stay)."""
    ids = [c.id for c in p.old]
    if [c.id for c in clips[p.at:p.at + len(ids)]] == ids:
        return p.at
    if ids:
        for i, c in enumerate(clips):
            if c.id == ids[0] and [d.id for d in clips[i:i + len(ids)]] == ids:
                return i
    raise EditError(f"clips at {p.at} are not the ones this edit expects")


def apply_patch(clips: Sequence[Clip], p: Patch) -> list[Clip]:
    at = locate(clips, p)
    return [*clips[:at], *p.new, *clips[at + len(p.old):]]


def relocate(clips: Sequence[Clip], edit: Edit) -> Edit:
    """The same edit with each patch at the position it applies to in ``clips``."""
    out = list(clips)
    patches = []
    for p in edit.patches:
        at = locate(out, p)
        patches.append(p if at == p.at else Patch(at, p.old, p.new))
        out = [*out[:at], *p.new, *out[at + len(p.old):]]
    return edit if all(a is b for a, b in zip(patches, edit.patches)) else \
        Edit(edit.label, tuple(patches), edit.focus)


def apply_edit(clips: Sequence[Clip], edit: Edit) -> list[Clip]:
    out = list(clips)
    for p in edit.patches:
        out = apply_patch(out, p)
    return out


def position_of(clips: Sequence[Clip], clip_id: int) -> int:
    for i, c in enumerate(clips):
        if c.id == clip_id:
            return i
    raise EditError(f"no clip with id {clip_id}")


def _one(clips: Sequence[Clip], pos: int, new: Clip, label: str) -> Edit:
    return Edit(label, (Patch(pos, (clips[pos],), (new,)),), focus=new.id)


def clean_text(text: str) -> str:
    """A transcript that keeps the line one clip: ``|`` separates the fields (upstream's 1A
    splits on every one of them) and a line break would start a new line."""
    return " ".join(text.replace("|", " ").split()) if any(
        ch in text for ch in "|\r\n\t") else text


def set_text(clips: Sequence[Clip], pos: int, text: str, *, accept: bool = False) -> Edit | None:
    """Change a clip's text (and mark it reviewed when ``accept``); None when nothing changes.
    A malformed line's raw text is taken as typed (that is how it gets fixed)."""
    old = clips[pos]
    new = old.with_text(text if old.entry is None else clean_text(text))
    if accept and not new.malformed:
        new = replace(new, reviewed=True)
    if new == old:
        return None
    return _one(clips, pos, new, "accept" if accept and new.text == old.text else "edit text")


def accept(clips: Sequence[Clip], pos: int) -> Edit | None:
    old = clips[pos]
    if old.reviewed or old.malformed or old.deleted:
        return None
    return _one(clips, pos, replace(old, reviewed=True), "accept")


def toggle_delete(clips: Sequence[Clip], pos: int) -> Edit:
    """Soft delete: the clip leaves the ``.list``, its audio file stays; again to restore."""
    old = clips[pos]
    return _one(clips, pos, replace(old, deleted=not old.deleted),
                "restore" if old.deleted else "delete")


def neighbour(clips: Sequence[Clip], pos: int, step: int) -> int | None:
    """The nearest live clip (not deleted, not malformed, not blank) before/after ``pos``."""
    i = pos + step
    while 0 <= i < len(clips):
        c = clips[i]
        if not (c.deleted or c.malformed or c.blank):
            return i
        i += step
    return None


def merge(clips: Sequence[Clip], pos: int, step: int, new_id: int, new_wav: str) -> Edit:
    """Merge the clip at ``pos`` with the next (step=+1) or previous (-1) live clip into one
    new clip whose audio is ``new_wav`` (written by the caller). Clips between them (deleted
    or malformed) stay, after the merged clip."""
    other = neighbour(clips, pos, step)
    if clips[pos].entry is None or clips[pos].deleted:
        raise EditError("only a live clip can be merged")
    if other is None:
        raise EditError("there is no clip to merge with in that direction")
    lo, hi = sorted((pos, other))
    a, b = clips[lo], clips[hi]
    assert a.entry and b.entry
    entry = ListEntry(new_wav, a.entry.speaker, a.entry.lang,
                      join_texts(a.entry.text, b.entry.text, a.entry.lang))
    merged = Clip(new_id, a.line.with_entry(entry), origin=(a.id, b.id))
    old = tuple(clips[lo:hi + 1])
    return Edit("merge", (Patch(lo, old, (merged, *old[1:-1])),), focus=new_id)


def merge_sources(clips: Sequence[Clip], pos: int, step: int) -> tuple[Clip, Clip]:
    """The two clips :func:`merge` would join, in order (for writing the audio first)."""
    other = neighbour(clips, pos, step)
    if other is None or clips[pos].entry is None:
        raise EditError("there is no clip to merge with in that direction")
    lo, hi = sorted((pos, other))
    return clips[lo], clips[hi]


def split(clips: Sequence[Clip], pos: int, cursor: int, new_ids: tuple[int, int],
          new_wavs: tuple[str, str]) -> Edit:
    """Split a clip in two new clips (audio ``new_wavs``, written by the caller); the text
    splits at character ``cursor``."""
    old = clips[pos]
    if old.entry is None or old.deleted:
        raise EditError("only a live clip can be split")
    text = old.entry.text
    cursor = max(0, min(cursor, len(text)))
    parts = (text[:cursor].rstrip(), text[cursor:].lstrip())
    made = tuple(
        Clip(new_ids[k], old.line.with_entry(replace(old.entry, wav=new_wavs[k], text=parts[k])),
             origin=(old.id,))
        for k in range(2))
    return Edit("split", (Patch(pos, (old,), made),), focus=new_ids[0])


def replace_all(clips: Sequence[Clip], positions: Sequence[int], find: str,
                repl: str) -> Edit | None:
    """Replace ``find`` by ``repl`` in the texts of the clips at ``positions``: one edit, one
    undo. None when no text contains ``find``."""
    if not find:
        return None
    patches = []
    for pos in positions:
        c = clips[pos]
        if c.entry is None or find not in c.entry.text:
            continue
        new = c.with_text(clean_text(c.entry.text.replace(find, repl)))
        if new != c:
            patches.append(Patch(pos, (c,), (new,)))
    if not patches:
        return None
    return Edit(f"replace {find!r} ({len(patches)} clips)", tuple(patches))
