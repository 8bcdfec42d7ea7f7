"""Choosing the reference clip: the user's own proofread clips of 3–10 s, whose text is
known (spec §7.4: upstream refuses references outside 3–10 s; longer ones make the voice
worse). Light module: the pane lists candidates with it, so no torch here."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.events import StepError
from engine.layout import Layout

REF_MIN_S, REF_MAX_S = 3.0, 10.0
IDEAL_S = 6.0  # when the user picks none, the clip nearest this length is used
_LANG = {"zh": "zh", "en": "en", "ja": "ja", "all_zh": "zh", "all_ja": "ja"}


@dataclass(frozen=True)
class RefChoice:
    wav: str  # as the .list stores it (usually relative to the project)
    text: str
    language: str  # zh | en | ja
    seconds: float


def clip_seconds(path: Path) -> float:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (RuntimeError, OSError) as exc:  # soundfile raises LibsndfileError (a RuntimeError)
        raise StepError(f"The reference clip {path.name} cannot be read ({exc}).",
                        "Pick another clip (a WAV/FLAC/OGG file).")
    return info.frames / info.samplerate if info.samplerate else 0.0


def check_length(seconds: float) -> None:
    if not REF_MIN_S <= seconds <= REF_MAX_S:
        raise StepError(f"The reference clip is {seconds:.1f} s long; it must be 3 to 10 s.",
                        "Pick a clip of 3–10 s (longer references make the voice worse).")


def proofread_clips(layout: Layout) -> list[RefChoice]:
    """Every clip of the proofread list with its length (unreadable clips are left out)."""
    from engine.dataset.listfile import read_list

    if not layout.list_file.is_file():
        return []
    out = []
    for e in read_list(layout.list_file):
        lang = _LANG.get(e.lang.strip().lower())
        path = layout.abs(e.wav)
        if lang is None or not e.text.strip() or not path.is_file():
            continue
        try:
            seconds = clip_seconds(path)
        except StepError:
            continue
        out.append(RefChoice(e.wav, e.text.strip(), lang, round(seconds, 2)))
    return out


def candidates(layout: Layout) -> list[RefChoice]:
    """Proofread clips usable as references (3–10 s), best-suited first."""
    usable = [c for c in proofread_clips(layout) if REF_MIN_S <= c.seconds <= REF_MAX_S]
    return sorted(usable, key=lambda c: abs(c.seconds - IDEAL_S))


def _same(layout: Layout, a: str, b: str) -> bool:
    return layout.abs(a).resolve() == layout.abs(b).resolve()


def resolve(layout: Layout, wav: str, text: str, language: str,
            ref_free: bool = False) -> RefChoice:
    """The reference to use: the one named (its text from the proofread list when not
    given), or the best proofread candidate. Refuses clips outside 3–10 s with a sentence."""
    if not wav:
        found = candidates(layout)
        if not found:
            raise StepError("No proofread clip of 3–10 s is available as a reference.",
                            "Proofread some clips first, or name a 3–10 s clip with its text.")
        c = found[0]
        return RefChoice(c.wav, "" if ref_free else c.text, c.language, c.seconds)
    path = layout.abs(wav)
    if not path.is_file():
        raise StepError(f"The reference clip {wav} does not exist.",
                        "Pick one of your proofread clips of 3–10 s.")
    seconds = clip_seconds(path)
    check_length(seconds)
    if not ref_free and not text.strip():
        for c in proofread_clips(layout):
            if _same(layout, c.wav, wav):
                return RefChoice(wav, c.text, c.language, seconds)
        raise StepError(f"The text of the reference clip {wav} is unknown.",
                        "Type what the clip says, pick a proofread clip, or use reference-free mode.")
    return RefChoice(wav, "" if ref_free else text.strip(), language, seconds)


def aux_paths(layout: Layout, clips: list) -> list[Path]:
    """The extra references' files (upstream's aux_ref_audio_paths), each checked readable."""
    out = []
    for clip in clips:
        path = layout.abs(str(clip))
        if not path.is_file():
            raise StepError(f"The extra reference {clip} does not exist.",
                            "Name clips of the project (e.g. audio/slices/x.wav) or none.")
        clip_seconds(path)  # unreadable: a sentence
        out.append(path)
    return out
