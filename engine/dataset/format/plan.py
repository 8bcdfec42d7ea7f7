"""Reading and checking the transcript before any model loads: every line well formed,
every clip present, no two clips sharing a file name (upstream keys everything by it)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from engine.dataset.listfile import parse_line
from engine.events import StepError

# Upstream 1-get-text's language codes; anything else is skipped with a warning.
LANG_CODES = {"zh": "zh", "ZH": "zh", "ja": "ja", "JA": "ja", "jp": "ja", "JP": "ja",
              "en": "en", "EN": "en", "En": "en"}


@dataclass
class Clip:
    line_no: int
    name: str  # file name: the key of every 1A output
    wav: Path
    lang: str  # zh | en | ja, or "" when unsupported
    raw_lang: str
    text: str


def read_clips(list_path: Path, root: Path) -> list[Clip]:
    if not list_path.is_file():
        raise StepError(f"There is no transcript at {list_path}.",
                        "Run the Transcribe step first (or set list_path to your .list file).")
    clips: list[Clip] = []
    lines = list_path.read_text(encoding="utf-8").splitlines()
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        entry = parse_line(line)
        if entry is None:
            raise StepError(
                f"{list_path.name} line {no} is not wav|speaker|language|text: {line[:80]!r}",
                f"Fix line {no} of {list_path} (in the Proofread step or a text editor): it "
                "needs exactly four fields separated by |.")
        if not entry.text.strip():
            raise StepError(f"{list_path.name} line {no} ({entry.wav}) has no text.",
                            f"Type its text in the Proofread step, or delete line {no}.")
        wav = Path(entry.wav).expanduser()
        wav = wav if wav.is_absolute() else root / wav
        clips.append(Clip(no, wav.name, wav, LANG_CODES.get(entry.lang.strip(), ""),
                          entry.lang, entry.text))
    if not clips:
        raise StepError(f"{list_path} has no clips.", "Run the Transcribe step first.")
    missing = [c for c in clips if not c.wav.is_file()]
    if missing:
        first = ", ".join(f"line {c.line_no}: {c.wav}" for c in missing[:3])
        raise StepError(f"{len(missing)} clip(s) in {list_path.name} are missing ({first}).",
                        "Restore the files, or remove their lines in the Proofread step.")
    seen: dict[str, Clip] = {}
    for c in clips:
        if c.name in seen:
            raise StepError(
                f"Lines {seen[c.name].line_no} and {c.line_no} of {list_path.name} both use a "
                f"clip named {c.name}; training keys clips by file name.",
                "Rename one of the files (and its line) so every clip name is unique.")
        seen[c.name] = c
    return clips


def key(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:16]


def audio_stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"
