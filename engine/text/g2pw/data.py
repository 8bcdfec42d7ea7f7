"""The text files of a G2PW model folder (``G2PWModel/``, as unzipped from G2PWModel_1.1.zip).

- ``config.py``: training settings; we read only literal top-level assignments (never run it).
  ``use_mask`` (default True) and ``use_char_phoneme`` (default False) matter at inference.
- ``POLYPHONIC_CHARS.txt``: ``char<TAB>label`` per line, one line per allowed reading. Labels
  are toneless bopomofo plus a tone digit 1-5 (``ㄏㄤ2``). The model's classes are the sorted
  set of labels (or of ``"char label"`` with ``use_char_phoneme``); a character's id is its
  index in the sorted list of every character in this file.
- ``MONOPHONIC_CHARS.txt``: ``char<TAB>label`` for characters with a single reading.
- ``bopomofo_to_pinyin_wo_tune_dict.json``: toneless bopomofo -> toneless pinyin.
- ``char_bopomofo_dict.json``: char -> readings (loaded for completeness; upstream's inference
  does not use it, those characters get pypinyin's reading).
- ``polyphonic.rep`` / ``polyphonic-fix.rep`` (optional, not part of the zip: upstream keeps
  them in its ``text/g2pw/`` folder): ``word: ['pin1', 'yin1']`` per line; the fix file wins.
"""
from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

FOLDER_NAME = "G2PWModel"
MODEL_FILE = "g2pW.onnx"
REQUIRED_FILES = (MODEL_FILE, "config.py", "POLYPHONIC_CHARS.txt", "MONOPHONIC_CHARS.txt",
                  "bopomofo_to_pinyin_wo_tune_dict.json", "char_bopomofo_dict.json")
WORD_FILES = ("polyphonic.rep", "polyphonic-fix.rep")

# Upstream's fixed exceptions: characters G2PW knows as polyphonic but that are left to
# pypinyin (tone sandhi handles 一/不 later), and monophonic entries it ignores.
NOT_POLYPHONIC = frozenset("一不和咋嗲剖差攢倒難奔勁拗肖瘙誒泊听噢")
NOT_MONOPHONIC = frozenset("似攢")

_CONFIG_DEFAULTS = {"use_mask": True, "use_char_phoneme": False, "window_size": None}


def missing_files(folder: Path) -> list[str]:
    folder = Path(folder)
    return [f for f in REQUIRED_FILES if not (folder / f).is_file()]


def read_config(path: Path) -> dict:
    """Literal top-level assignments of ``config.py`` (the file is data to us, not code)."""
    values = dict(_CONFIG_DEFAULTS)
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass  # expressions (root + 'x.txt') are training-only paths
    return values


def _pairs(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").strip().split("\n"), 1):
        parts = line.rstrip("\r").split("\t")
        if len(parts) != 2:
            raise ValueError(f"{path}:{n}: expected 'char<TAB>reading', got {line!r}")
        pairs.append((parts[0], parts[1]))
    return pairs


def read_word_dict(paths: list[Path]) -> dict[str, list[str]]:
    """``word: ['py1', ...]`` lines; later files override earlier ones."""
    words: dict[str, list[str]] = {}
    for path in paths:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            key, sep, value = line.partition(":")
            try:
                readings = ast.literal_eval(value.strip()) if sep else None
            except (ValueError, SyntaxError):
                readings = None
            if not isinstance(readings, list):
                raise ValueError(f"{path}:{n}: expected \"word: ['pin1', ...]\", got {line!r}")
            words[key.strip()] = [str(r) for r in readings]
    return words


@dataclass
class G2PWData:
    folder: Path
    use_mask: bool
    use_char_phoneme: bool
    labels: list[str]  # model classes, in output order
    char2labels: dict[str, list[int]]  # polyphonic char -> allowed class indices
    chars: list[str]  # sorted polyphonic chars: char_ids index this list
    polyphonic: frozenset[str]  # chars sent to the model (chars minus NOT_POLYPHONIC)
    monophonic: dict[str, str]  # char -> bopomofo label
    bopomofo_to_pinyin: dict[str, str]
    char_bopomofo: dict[str, list[str]]
    words: dict[str, list[str]] = field(default_factory=dict)  # polyphonic*.rep, if present

    @property
    def char_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}


def load_data(folder: Path) -> G2PWData:
    folder = Path(folder)
    config = read_config(folder / "config.py")
    poly = _pairs(folder / "POLYPHONIC_CHARS.txt")
    use_char_phoneme = bool(config["use_char_phoneme"])
    key = (lambda c, p: f"{c} {p}") if use_char_phoneme else (lambda c, p: p)
    labels = sorted({key(c, p) for c, p in poly})
    index = {label: i for i, label in enumerate(labels)}
    char2labels: dict[str, list[int]] = {}
    for c, p in poly:
        char2labels.setdefault(c, []).append(index[key(c, p)])
    chars = sorted(char2labels)
    mono = {c: p for c, p in _pairs(folder / "MONOPHONIC_CHARS.txt") if c not in NOT_MONOPHONIC}
    with open(folder / "bopomofo_to_pinyin_wo_tune_dict.json", encoding="utf-8") as f:
        bopomofo = json.load(f)
    with open(folder / "char_bopomofo_dict.json", encoding="utf-8") as f:
        char_bopomofo = json.load(f)
    words = read_word_dict([folder / n for n in WORD_FILES if (folder / n).is_file()])
    return G2PWData(folder, bool(config["use_mask"]), use_char_phoneme, labels, char2labels,
                    chars, frozenset(chars) - NOT_POLYPHONIC, mono, bopomofo, char_bopomofo,
                    words)
