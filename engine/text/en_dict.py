"""Upstream's English pronunciation data, shipped in ``data/upstream-english`` (sources,
licences and sha256 in its README): the CMU dictionary as upstream merges it, upstream's
hot-word overrides and its name dictionary.

Upstream reads ``cmudict.rep`` (CMUdict 0.7b, from line 57 on, word and phones split on two
spaces), fills the words still missing from ``cmudict-fast.rep`` (split on one space), then
lets ``engdict-hot.rep`` override. :func:`build_merged` does the first two steps once, when
the data is updated, into one file (``engdict.tsv``, with CMU's licence header) so a start
parses 143k lines instead of 270k; the hot words stay a file of their own, applied at load
as upstream does. Phones are kept as the string upstream splits on single spaces and split
on lookup, which keeps loading fast (no cache file to trust) and every entry exact, even
the 21 words whose line has three spaces and so a leading empty phone.
"""
from __future__ import annotations

import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "upstream-english"
MERGED = "engdict.tsv"
HOT = "engdict-hot.rep"
NAMES = "namedict.tsv"
_HEADER = ";;;"  # CMU's comment lines; no entry starts so (";SEMI-COLON" has one)
_CMU_FIRST_LINE = 57  # upstream skips the header by line number


def phones(entry: str) -> list[str]:
    """An entry's phones, exactly as upstream's ``split(" ")`` gives them."""
    return entry.split(" ")


def _read_lines(path: Path) -> list[str]:
    # UTF-8 as upstream reads it on Linux: one 0.7b entry (DÉJÀ) holds U+FFFD characters.
    return path.read_text(encoding="utf-8").splitlines()


def _read_shipped(path: Path) -> list[str]:
    """A shipped file's lines; a broken install is a sentence, not a traceback."""
    from engine.events import StepError

    try:
        return _read_lines(path)
    except (OSError, UnicodeDecodeError) as e:
        raise StepError(f"English text needs upstream's pronunciation data, and {path} "
                        f"cannot be read ({getattr(e, 'strerror', None) or e}).",
                        "Reinstall gsv-tui: it ships this file.") from None


def load_dictionary(folder: Path | None = None) -> dict[str, str]:
    """Word (lower case) -> phone string: the merged CMU dictionary, hot words applied."""
    folder = folder or DATA
    table: dict[str, str] = {}
    for line in _read_shipped(folder / MERGED):
        if line and not line.startswith(_HEADER):
            word, _, entry = line.partition("\t")
            table[word] = entry
    for line in _read_shipped(folder / HOT):
        word, _, entry = line.strip().partition(" ")
        if word:
            table[word.lower()] = entry  # upstream: hot words replace any entry
    return table


def load_names(folder: Path | None = None) -> dict[str, str]:
    """Upstream's name dictionary (19,929 names), read for title-case words only."""
    table: dict[str, str] = {}
    for line in _read_shipped((folder or DATA) / NAMES):
        word, _, entry = line.partition("\t")
        table.setdefault(word, entry)  # the first pronunciation, as upstream's [0]
    return table


def build_merged(cmudict_rep: Path, cmudict_fast_rep: Path, out: Path) -> int:
    """Write ``engdict.tsv`` from upstream's two dictionaries, with upstream's rules; the
    number of words. Run when the data changes, never at run time."""
    lines = _read_lines(cmudict_rep)
    header = [ln for ln in lines[: _CMU_FIRST_LINE - 1] if ln.startswith(_HEADER)]
    merged: dict[str, str] = {}
    for line in lines[_CMU_FIRST_LINE - 1:]:
        parts = line.strip().split("  ")
        merged[parts[0].lower()] = parts[1]  # only the text up to a second double space
    for line in _read_lines(cmudict_fast_rep):
        word, _, entry = line.strip().partition(" ")
        merged.setdefault(word.lower(), entry)
    note = (f"{_HEADER} gsv-tui: {cmudict_rep.name} from line {_CMU_FIRST_LINE}, then the words "
            f"of {cmudict_fast_rep.name} it lacks; word TAB phones (upstream splits them on "
            "single spaces)")
    body = [f"{w}\t{e}" for w, e in merged.items()]
    out.write_text("\n".join(header + [note] + body) + "\n", encoding="utf-8")
    return len(merged)


if __name__ == "__main__":  # python -m engine.text.en_dict CMUDICT_REP CMUDICT_FAST_REP
    n = build_merged(Path(sys.argv[1]), Path(sys.argv[2]), DATA / MERGED)
    print(f"{DATA / MERGED}: {n} words")
