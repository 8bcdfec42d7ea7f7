"""Merging into the proofreading record: pure functions over clips, no files.

Two kinds of change reach a list that a person proofreads:

- :func:`take_in` — the ``.list`` was changed outside the editor (a text editor, an older
  tool): a three-way merge of what was last written, what the record holds now and what the
  file says. A line the file changed counts as a person's edit; a line it dropped becomes a
  deleted clip (kept in the record, restorable); what the record changed since the last write
  (the editor's unflushed edits) wins.
- :func:`merge_asr` — a new ASR result: clips a person touched (edited, reviewed, deleted,
  made by a merge or split, or whose line differs from what ASR last offered) keep their text
  and state; untouched clips take the new text; new clips are added; untouched clips ASR no
  longer lists leave; clips a person removed (merged, split, deleted by hand) are not added
  back.

Clip ids survive both, so the editor's undo history still applies (:func:`.edits.locate`).
"""
from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, replace
from typing import Callable, Hashable, Iterable, Sequence

from engine.dataset.listfile import ListDocument, ListEntry, ListLine, make_line
from engine.dataset.proofread.clips import Clip


def line_key(line: ListLine) -> Hashable:
    """Lines are matched by their wav path; blank and malformed lines by their text."""
    return ("wav", line.entry.wav) if line.entry is not None else ("raw", line.raw)


def _place(placed: list[Clip], ours: Sequence[Clip], extra: set[int]) -> list[Clip]:
    """``placed`` plus the clips of ``ours`` whose ids are in ``extra``, each put right after
    the clip it followed in ``ours`` (so a deleted clip stays where the person saw it)."""
    if not extra:
        return placed
    in_placed = {c.id for c in placed}
    after: dict[int | None, list[Clip]] = defaultdict(list)
    anchor: int | None = None
    for c in ours:
        if c.id in extra:
            after[anchor].append(c)
        elif c.id in in_placed:
            anchor = c.id
    out = list(after.get(None, ()))
    for c in placed:
        out.append(c)
        out.extend(after.get(c.id, ()))
    return out


@dataclass
class TakenIn:
    clips: list[Clip]
    next_id: int
    changed: int  # lines the file changed, added or dropped

    @property
    def any(self) -> bool:
        return self.changed > 0


def take_in(written: Sequence[Clip], ours: Sequence[Clip], doc: ListDocument,
            next_id: int) -> TakenIn:
    """Merge a changed file into the record. ``written``: the clips whose rendering was last
    written to the file; ``ours``: the record now (the same, unless edits are unflushed)."""
    base_live: dict[Hashable, deque[Clip]] = defaultdict(deque)
    for c in written:
        if not c.deleted:
            base_live[line_key(c.line)].append(c)
    written_by_id = {c.id: c for c in written}
    ours_by_id = {c.id: c for c in ours}
    mine = {i for i, c in ours_by_id.items() if written_by_id.get(i) != c} | \
        {i for i in written_by_id if i not in ours_by_id}

    mine_live: dict[Hashable, deque[Clip]] = defaultdict(deque)
    for c in ours:
        if c.id in mine and not c.deleted:
            mine_live[line_key(c.line)].append(c)
    placed: list[Clip] = []
    placed_ids: set[int] = set()
    changed = 0
    for line in doc.lines:
        q = base_live.get(line_key(line))
        b = q.popleft() if q else None
        if b is None:
            o = mine_live.get(line_key(line))
            while o and o[0].id in placed_ids:
                o.popleft()
            if o:  # a line the record made since the last write (a merge's new clip)
                placed.append(o.popleft())
                placed_ids.add(placed[-1].id)
                continue
            # a line a person added by hand
            placed.append(Clip(next_id, line, edited=line.entry is not None))
            placed_ids.add(next_id)
            next_id += 1
            changed += 1
            continue
        if b.id in mine:  # changed in the record since the last write: the record wins
            if b.id in ours_by_id and b.id not in placed_ids:
                placed.append(ours_by_id[b.id])
                placed_ids.add(b.id)
            continue
        placed.append(b if line == b.line else replace(b, line=line, edited=True))
        placed_ids.add(b.id)
        changed += line != b.line
    dropped = {c.id for q in base_live.values() for c in q if c.id not in mine}
    changed += sum(1 for i in dropped if not written_by_id[i].blank)
    # the rest of the record: deleted clips, the editor's new ones, lines dropped by hand
    # (a dropped clip is kept as deleted; a dropped blank or malformed line was never a clip)
    rest = [replace(c, deleted=True) if c.id in dropped else c for c in ours
            if c.id not in placed_ids and not (c.id in dropped and c.entry is None)]
    by_id = {c.id: c for c in rest}
    out = _place(placed, [by_id.get(c.id, c) for c in ours], set(by_id))
    return TakenIn(out, next_id, changed)


@dataclass
class AsrMerge:
    clips: list[Clip]
    next_id: int
    offered: dict[str, str]  # key -> the text ASR offered, for the next run's comparison
    kept: int = 0  # clips a person touched: their text and state stayed
    added: int = 0
    changed: int = 0  # untouched clips that took a new ASR text
    removed: int = 0  # untouched clips ASR no longer lists
    not_readded: int = 0  # clips a person removed that ASR still lists
    taken_in: int = 0  # lines changed outside (a text editor), taken in as edits first

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        parts = [f"{self.kept} kept your edits", f"{self.added} added",
                 f"{self.changed} changed"]
        if self.removed:
            parts.append(f"{self.removed} no longer heard")
        if self.not_readded:
            parts.append(f"{self.not_readded} you removed stayed out")
        if self.taken_in:
            parts.append(f"{self.taken_in} hand-edited line(s) taken in as edits")
        return "list: " + ", ".join(parts)


def touched(c: Clip, offered_before: str | None) -> bool:
    return bool(c.reviewed or c.edited or c.deleted or c.origin
                or (offered_before is not None and c.text != offered_before))


def merge_asr(clips: Sequence[Clip], entries: Iterable[ListEntry], *, next_id: int,
              key: Callable[[str], str], offered_before: dict[str, str],
              known: set[str]) -> AsrMerge:
    """Merge an ASR result (``entries``, keyed by ``key(wav)``) into the record's clips.
    ``offered_before``: what ASR offered last time (a line that differs was changed by a
    person; a key missing from the record was removed by one); ``known``: keys ASR has a
    record for, so an untouched clip it no longer lists can leave."""
    entries = list(entries)
    asr = {key(e.wav): e for e in entries}
    m = AsrMerge([], next_id, {k: e.text for k, e in asr.items()})
    present: dict[str, int] = {}  # key -> id of the clip that holds it
    for c in clips:
        if c.entry is None:
            m.clips.append(c)
            continue
        k = key(c.wav)
        e = asr.get(k)
        if k in present:  # a second line for one wav (a person copied it): theirs
            m.clips.append(c)
            continue
        if touched(c, offered_before.get(k)):
            present[k] = c.id
            m.kept += e is not None
            m.clips.append(c)
        elif e is None:
            if k in known:
                m.removed += 1
            else:  # not ASR's (another folder, a hand-made line): leave it be
                present[k] = c.id
                m.clips.append(c)
        else:
            present[k] = c.id
            new = replace(c.entry, speaker=e.speaker, lang=e.lang, text=e.text)
            if new != c.entry:
                m.changed += 1
                c = replace(c, line=c.line.with_entry(new))
            m.clips.append(c)

    # new clips go after the clip of the ASR entry before them (ASR lists in clip order)
    anchor: int | None = None
    after: dict[int | None, list[Clip]] = defaultdict(list)
    for e in entries:
        k = key(e.wav)
        if k in present:
            anchor = present[k]
            continue
        if k in offered_before:  # ASR listed it before and the record lost it: a person did
            m.not_readded += 1
            continue
        c = Clip(m.next_id, make_line(e.to_line()))
        m.next_id += 1
        m.added += 1
        present[k] = c.id
        after[anchor].append(c)
        anchor = c.id
    if after:
        lead = after.pop(None, [])
        first = next((c.id for c in m.clips if c.entry is not None and key(c.wav) in asr),
                     None)
        out: list[Clip] = []

        def emit(start: Sequence[Clip]) -> None:  # a clip, then what was added after it
            stack = list(reversed(start))
            while stack:
                x = stack.pop()
                out.append(x)
                stack.extend(reversed(after.pop(x.id, ())))

        for c in m.clips:
            if c.id == first:
                emit(lead)
                lead = []
            emit([c])
        emit(lead)
        m.clips = out
    return m
