"""One clip's 1A work, shared by the in-process run and the fanned-out workers: what the
clip still needs (decided from the journal and the files on disk), the models that do it,
and doing it (text + BERT, the 32 kHz wav + HuBERT, semantic codes)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from engine.audio.decode import DecodeError
from engine.dataset.format import expdir
from engine.dataset.format.audio import ClipTooLoud, prepare, write_wav32k
from engine.dataset.format.plan import Clip
from engine.events import Event, Log


class ClipWork:
    """What each clip still needs, decided from the journal and the files on disk."""

    def __init__(self, clip: Clip, rec: expdir.ClipRecord | None, exp: expdir.ExpDir,
                 version: str, text_key: str, audio_key: str, sem_key: str) -> None:
        self.clip, self.old, self.version = clip, rec, version
        self.text_key, self.audio_key, self.sem_key = text_key, audio_key, sem_key
        same_text = rec is not None and rec.text_key == text_key
        same_audio = rec is not None and rec.audio_key == audio_key
        bert_ok = clip.lang != "zh" or (same_text and rec.text_row is None) \
            or exp.bert(clip.name).is_file()
        self.text = not (same_text and bert_ok)
        self.audio = not (same_audio and (bool(rec.audio_skip) or (
            exp.hubert(clip.name).is_file() and exp.wav32k(clip.name).is_file())))
        self.semantic = self.audio or rec.sem_key != sem_key or (
            rec.semantic is None and not rec.audio_skip)

    @property
    def needs_bert(self) -> bool:
        return self.text and self.clip.lang == "zh"

    @property
    def anything(self) -> bool:
        return self.text or self.audio or self.semantic


@dataclass
class ModelFiles:
    """Where the models were found (located, or fetched, before any clip is touched); a
    None is a model no remaining clip needs."""
    bert: str | None = None
    hubert: str | None = None
    sovits: str | None = None
    version: str = "v2"


@dataclass
class Models:
    bert: object = None  # models.BertFeatures
    hubert: object = None  # models.HubertFeatures
    semantic: object = None  # models.SemanticExtractor


def load_models(files: ModelFiles, work: list[ClipWork], device: str, half: bool) -> Models:
    """Only the models this share of the clips needs."""
    from engine.dataset.format.models import BertFeatures, HubertFeatures, SovitsSemantic

    m = Models()
    if files.bert and any(w.needs_bert for w in work):
        m.bert = BertFeatures(Path(files.bert), device, half)
    if files.hubert and any(w.audio for w in work):
        m.hubert = HubertFeatures(Path(files.hubert), device, half)
    if files.sovits and any(w.semantic for w in work):
        m.semantic = SovitsSemantic(Path(files.sovits), device, files.version)
    return m


def save_tensor(path: Path, tensor) -> None:
    import torch

    from engine.atomic import atomic_write_bytes

    buf = io.BytesIO()
    torch.save(tensor, buf)
    atomic_write_bytes(path, buf.getvalue())


# Bytes one second of clip adds to logs/<slug>/: the 32 kHz int16 wav, HuBERT's 768 floats
# at 50 frames/s, and room for a Chinese line's BERT features.
_BYTES_PER_S = 32000 * 2 + 50 * 768 * 4 + 16384


def space_needed(left: list[ClipWork]) -> int:
    """What the clips still to do take on disk (their wav size gives their length)."""
    seconds = 0.0
    for w in left:
        try:
            seconds += max(w.clip.wav.stat().st_size - 44, 0) / (32000 * 2)
        except OSError:
            continue
    return int(seconds * _BYTES_PER_S) + (1 << 20)


def process_clip(w: ClipWork, exp: expdir.ExpDir, m: Models) -> Iterator[Event]:
    """Does what the clip needs; returns its journal record (every file already written)."""
    c, old = w.clip, w.old
    rec = expdir.ClipRecord(c.name, w.text_key, w.audio_key, w.sem_key)
    if w.text:
        rec.text_row, rec.text_skip = yield from _text(c, exp, m.bert, w.version)
    else:
        rec.text_row, rec.text_skip = old.text_row, old.text_skip
    ssl = None
    if w.audio:
        try:
            audio = prepare(c.wav)
        except DecodeError as exc:  # a damaged clip: skip it, the rest is formatted
            rec.audio_skip = exc.reason
            yield Log(f"{c.name}: clip skipped, {exc.reason}. Replace the file, or delete its "
                      "line in the Proofread step.", "warning")
            return rec
        except (ClipTooLoud, ValueError) as exc:
            rec.audio_skip = str(exc)
            yield Log(f"{c.name}: audio skipped ({exc})", "warning")
            return rec
        ssl = m.hubert(audio.hubert_input_16k)
        write_wav32k(exp.wav32k(c.name), audio.wav32k_int16)
        save_tensor(exp.hubert(c.name), ssl)
    elif old.audio_skip:
        rec.audio_skip = old.audio_skip
        return rec
    if w.semantic:
        import torch

        if ssl is None:
            ssl = torch.load(exp.hubert(c.name), map_location="cpu", weights_only=True)
        rec.semantic = " ".join(map(str, m.semantic.extract(ssl)))
    else:
        rec.semantic = old.semantic
    return rec


def _text(c: Clip, exp: expdir.ExpDir, bert, version: str) -> Iterator[Event]:
    """Returns (the 2-name2text row, "") or (None, why the clip's text was skipped)."""
    from engine.text import clean_text

    # Upstream's 1-get-text replaces these before cleaning (training text only).
    text = c.text.replace("%", "-").replace("￥", ",")
    try:
        cleaned = clean_text(text, c.lang, version)
    except Exception as exc:  # noqa: BLE001 -- one odd line must not stop the whole run
        yield Log(f"{c.name}: text could not be converted to phones ({exc}); clip skipped. "
                  f"Fix its text in the Proofread step.", "warning")
        return None, "text could not be converted to phones"
    if not cleaned.phones:
        yield Log(f"{c.name}: no phones in {c.text!r}; clip skipped.", "warning")
        return None, "no phones in its text"
    if c.lang == "zh":
        try:
            feats = bert(cleaned.norm_text, cleaned.word2ph)
        except ValueError as exc:
            yield Log(f"{c.name}: {exc}; clip skipped.", "warning")
            return None, str(exc)
        save_tensor(exp.bert(c.name), feats)
    return expdir.text_row(c.name, cleaned.phones, cleaned.word2ph, cleaned.norm_text), ""
