"""The ASR back-check: does a synthesized piece say its text?

Long syntheses swallow words, repeat themselves or leak the reference audio, and which seed
does it is luck. Each piece is transcribed with the project's ASR backend (engine.asr) and
compared with its text: word error for English, character error for Chinese and Japanese
(their words are not space-separated). A duration-per-phone test catches what ASR may
forgive: far too long for its phonemes is leaked reference audio or a runaway loop, far too
short is swallowed words. Light module (no torch): the request, pane and CLI read its names.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.events import StepError

# Seconds of audio per phoneme id at speed 1. Read speech sits near 0.06–0.15; outside
# these bounds a take is flagged even when ASR heard the words.
MAX_S_PER_PHONE = 0.4
MIN_S_PER_PHONE = 0.025
# Installed Whisper models tried in this order when none is named (smaller first on CPU:
# the check runs once per take, and base/small already hear whole sentences).
CPU_ORDER = ("small", "base", "large-v3-turbo", "medium", "medium.en", "large-v3", "large-v2",
             "tiny")
GPU_ORDER = ("large-v3-turbo", "large-v3", "large-v2", "medium", "small", "base", "tiny")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_NOT_CHAR = re.compile(r"[\W_]+")
MAX_SEED = 2**31 - 1


@dataclass
class Check:
    """What the back-check found in one take."""

    heard: str  # the ASR transcript
    metric: str  # "wer" | "cer"
    error: float  # edits / reference length (may exceed 1 with insertions)
    s_per_phone: float
    flags: list[str] = field(default_factory=list)  # "too long", "too short", "asr failed"
    passed: bool = False

    @property
    def score(self) -> float:
        """0–1, higher is better: what share of the text was heard, halved when flagged."""
        base = max(0.0, 1.0 - min(self.error, 1.0))
        return round(base * (0.5 if self.flags else 1.0), 3)

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "error": round(self.error, 3), "metric": self.metric,
                "heard": self.heard, "s_per_phone": round(self.s_per_phone, 4),
                "flags": list(self.flags), "passed": self.passed}


def metric_for(text: str) -> str:
    """CER when the text holds CJK characters or kana, else WER."""
    return "cer" if _CJK.search(text) else "wer"


def _chars(text: str) -> list[str]:
    return list(_NOT_CHAR.sub("", unicodedata.normalize("NFKC", text).lower()))


def spelled(text: str, metric: str) -> str:
    """Numbers written out the way the text frontend reads them ("6" -> "six", "2" -> "二"),
    on both sides: ASR writes digits where the text has words and the other way round."""
    try:
        if metric == "wer":
            from engine.text.en_normalize import expand

            return expand(text.lower())  # lower first: no capital splitting (NASA)
        if re.search(r"\d", text):
            from engine.text.zh_normalize import normalize

            return "".join(normalize(text))
    except Exception:  # noqa: BLE001 -- a frontend quirk must not fail the check
        pass
    return text


def text_error(text: str, heard: str) -> tuple[str, float]:
    """(metric, error) of a transcript against the text it should say."""
    from engine.asr.wer import edit_distance, normalize_words

    metric = metric_for(text)
    text, heard = spelled(text, metric), spelled(heard, metric)
    ref, hyp = (_chars(text), _chars(heard)) if metric == "cer" else (  # "isn't" = "isnt"
        normalize_words(text.replace("'", "")), normalize_words(heard.replace("'", "")))
    if not ref:
        return metric, 0.0
    return metric, edit_distance(ref, hyp) / len(ref)


def judge(text: str, heard: str, seconds: float, phones: int, *, speed: float = 1.0,
          max_error: float = 0.35, asr_error: str | None = None) -> Check:
    """Score one take: its transcript against its text, its length against its phonemes."""
    metric, error = text_error(text, heard)
    s_per_phone = seconds * speed / max(phones, 1)
    flags = []
    if asr_error:
        flags.append("asr failed")
        error = 1.0
    if s_per_phone > MAX_S_PER_PHONE:
        flags.append("too long")
    elif s_per_phone < MIN_S_PER_PHONE:
        flags.append("too short")
    return Check(heard, metric, error, s_per_phone, flags,
                 passed=error <= max_error and not flags)


def better(a: Check, b: Check) -> bool:
    """Is take ``a`` better than take ``b``? A passing take beats a failing one; then the
    higher score; ties keep the earlier take."""
    return (a.passed, a.score) > (b.passed, b.score)


def reroll_seed(base: int, take: int) -> int:
    """The seed of re-roll ``take`` (1, 2, …) of a piece whose first seed is ``base``:
    derived, not random, so a resumed or repeated run makes the same takes."""
    if take == 0:
        return base
    digest = hashlib.sha256(f"gsv-reroll:{base}:{take}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % MAX_SEED


# --- the recogniser ----------------------------------------------------------------------
ASR_LANGS = {"zh": "zh", "en": "en", "ja": "ja"}  # text language -> what ASR is told


class Checker:
    """A loaded ASR backend that transcribes one take at a time."""

    def __init__(self, backend: Any, label: str) -> None:
        self.backend = backend
        self.label = label  # for logs: "faster-whisper base"

    def transcribe(self, audio_32k, language: str) -> tuple[str, str | None]:
        """(transcript, error) of float32 audio at 32 kHz."""
        import numpy as np
        import soxr

        from engine.asr.backend import SAMPLE_RATE, ClipAudio

        audio16 = soxr.resample(np.asarray(audio_32k, dtype=np.float32), 32000, SAMPLE_RATE)
        settings = getattr(self.backend, "settings", None)
        if settings is not None and dataclasses.is_dataclass(settings):
            # Whisper: tell it the language (a short noisy take is easily misdetected).
            self.backend.settings = dataclasses.replace(settings,
                                                        language=ASR_LANGS.get(language))
        results = list(self.backend.transcribe([ClipAudio("take", audio16.astype(np.float32))]))
        if not results:
            return "", "no result"
        return results[0].text, results[0].error

    def check(self, text: str, audio_32k, phones: int, language: str, *, speed: float,
              max_error: float) -> Check:
        heard, err = self.transcribe(audio_32k, language)
        return judge(text, heard, len(audio_32k) / 32000, phones, speed=speed,
                     max_error=max_error, asr_error=err)


def installed_model(language: str, device: str) -> tuple[str, Path] | None:
    """(backend, folder) of an ASR model in the app's models folder, or None. Only the
    models folder counts (where the ASR step's downloads go), so what runs does not depend
    on stray caches."""
    from engine.asr.models import funasr_spec, whisper_spec
    from engine.hub import default_dir, missing_files

    if language == "zh":
        spec = funasr_spec("paraformer-zh")
        folder = default_dir(spec)
        companions = [default_dir(funasr_spec(n)) for n in ("fsmn-vad", "ct-punc")]
        if not missing_files(folder, spec) and all(
                not missing_files(c, funasr_spec(n))
                for c, n in zip(companions, ("fsmn-vad", "ct-punc"))):
            return "funasr", folder
    for name in GPU_ORDER if str(device).startswith("cuda") else CPU_ORDER:
        spec = whisper_spec(name)
        if not missing_files(default_dir(spec), spec):
            return "faster-whisper", default_dir(spec)
    return None


def open_checker(model_dir: str, language: str, device: str, threads: int = 0
                 ) -> Checker | None:
    """The back-check's recogniser: the folder named, else an installed model, else None
    (the check is skipped). A named folder that is not a model is a StepError."""
    from engine.asr.step import backend_of_folder

    if model_dir:
        folder = Path(model_dir).expanduser()
        backend = backend_of_folder(folder) if folder.is_dir() else None
        if backend is None:
            raise StepError(f"The back-check's ASR folder {folder} holds no ASR model.",
                            "Point it at a faster-whisper folder (model.bin) or a FunASR one "
                            "(config.yaml + model.pt), or leave it empty.")
    else:
        found = installed_model(language, device)
        if found is None:
            return None
        backend, folder = found
    return _load(backend, folder, language, device, threads)


def _load(backend: str, folder: Path, language: str, device: str, threads: int = 0) -> Checker:
    if backend == "funasr":
        from engine.asr.funasr_backend import FunAsrBackend
        from engine.asr.models import funasr_spec
        from engine.hub import default_dir

        extra = {}
        if folder == default_dir(funasr_spec("paraformer-zh")):
            extra = {"vad_model": default_dir(funasr_spec("fsmn-vad")),
                     "punc_model": default_dir(funasr_spec("ct-punc"))}
        b = FunAsrBackend(folder, device=device, language=ASR_LANGS.get(language, "auto"),
                          batch_size=1, **extra)
        return Checker(b, f"FunASR {folder.name}")
    from engine.asr.whisper import WhisperBackend, WhisperSettings, resolve_compute_type

    dev = "cuda" if str(device).startswith("cuda") else "cpu"
    # Greedy, one window per take: the check needs the words, not the best punctuation.
    settings = WhisperSettings(device=dev, compute_type=resolve_compute_type("auto", dev),
                               language=ASR_LANGS.get(language), beam_size=1, batch_size=1,
                               pack_clips=False, threads=threads)
    return Checker(WhisperBackend(folder, settings), f"faster-whisper {folder.name}")


# --- the table both surfaces print -------------------------------------------------------
def mark(piece: dict) -> str:
    """One symbol per piece: ✓ passed, ✗ failed even after re-rolls, · not checked."""
    if "passed" not in piece:
        return "·"
    return "✓" if piece["passed"] else "✗"


def table_lines(pieces: list[dict]) -> list[str]:
    """The per-piece back-check table (``gsv synthesize`` and the job log print it)."""
    if not any("takes" in p for p in pieces):
        return []
    lines = ["piece  ok  score  takes  seed        heard / text"]
    for i, p in enumerate(pieces):
        takes = p.get("takes", [])
        lines.append(f"{i:>5}  {mark(p):>2}  {p.get('score', 0):5.2f}  "
                     f"{p.get('take', 0) + 1}/{len(takes):<3}  {p['seed']:<10}  "
                     f"{p.get('heard', '')[:40]!r} / {p['text'][:40]!r}"
                     + (f"  ({', '.join(p['flags'])})" if p.get("flags") else ""))
    return lines
