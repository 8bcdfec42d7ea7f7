"""Which clips the editor shows and in what order: filters, search, sort, counters.

Pure functions over the session's clips; the result is a list of positions into ``clips``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from engine.dataset.proofread.clips import Clip, is_cjk
from engine.dataset.proofread.info import ClipInfo

_LATIN_OR_DIGIT = re.compile(r"[0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


@dataclass(frozen=True)
class Limits:
    short_s: float = 3.0  # upstream's guidance: 3–10 s clips train best
    long_s: float = 10.0


InfoFn = Callable[[Clip], ClipInfo]


def _short(c: Clip, i: ClipInfo, lim: Limits) -> bool:
    return i.duration is not None and i.duration < lim.short_s


def _long(c: Clip, i: ClipInfo, lim: Limits) -> bool:
    return i.duration is not None and i.duration > lim.long_s


FILTERS: dict[str, tuple[str, Callable[[Clip, ClipInfo, Limits], bool]]] = {
    "all": ("all clips", lambda c, i, lim: True),
    "unreviewed": ("not reviewed yet",
                   lambda c, i, lim: not c.reviewed and not c.deleted and not c.malformed),
    "low_conf": ("low ASR confidence", lambda c, i, lim: i.low_confidence and not c.deleted),
    "short": ("too short", lambda c, i, lim: _short(c, i, lim) and not c.deleted),
    "long": ("too long", lambda c, i, lim: _long(c, i, lim) and not c.deleted),
    "mixed": ("digits or Latin letters in a CJK clip",
              lambda c, i, lim: not c.deleted and is_cjk(c.lang)
              and bool(_LATIN_OR_DIGIT.search(c.text))),
    "problems": ("malformed lines and missing audio",
                 lambda c, i, lim: c.malformed or (c.entry is not None and i.duration is None)),
    "deleted": ("deleted clips", lambda c, i, lim: c.deleted),
}
FILTER_ORDER = tuple(FILTERS)
SORTS = ("index", "duration", "confidence")


def matches(c: Clip, info: ClipInfo, filter: str = "all", query: str = "",
            limits: Limits = Limits()) -> bool:
    q = query.casefold()
    return (not c.blank and FILTERS[filter][1](c, info, limits)
            and (not q or q in c.text.casefold()))


def visible(clips: Sequence[Clip], info: InfoFn, *, filter: str = "all", query: str = "",
            sort: str = "index", limits: Limits = Limits()) -> list[int]:
    out = [i for i, c in enumerate(clips) if matches(c, info(c), filter, query, limits)]
    if sort == "duration":
        out.sort(key=lambda i: (info(clips[i]).duration is None, info(clips[i]).duration or 0.0))
    elif sort == "confidence":
        out.sort(key=lambda i: (info(clips[i]).confidence is None, info(clips[i]).confidence or 0))
    return out


def next_unreviewed(clips: Sequence[Clip], rows: Sequence[int], row: int) -> int | None:
    """The next row (wrapping) whose clip is live and not reviewed."""
    n = len(rows)
    for k in range(1, n + 1):
        c = clips[rows[(row + k) % n]]
        if not (c.reviewed or c.deleted or c.malformed):
            return (row + k) % n
    return None
