"""faster-whisper backend: VAD, then clips packed into 30 s windows decoded in batches.

Upstream transcribes one clip per ``transcribe`` call, so each 3–10 s clip pays for a full
30 s encoder pass. Here clips are packed into windows (see ``packing``) and the windows are
encoded and decoded ``batch_size`` at a time through CTranslate2 directly; language is
detected per window. No temperature fallback (as in faster-whisper's own batched pipeline).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from engine.asr.backend import SAMPLE_RATE, ClipAudio, ClipResult, compression_ratio
from engine.asr.packing import Window, assign_words, attach_punctuation, pack, split_long

MIN_SPEECH_S = 0.1  # less than this after VAD counts as "no speech"
LOOP_RATIO = 2.4  # gzip ratio above which Whisper's own fallback treats a decode as a loop


@dataclass
class WhisperSettings:
    device: str = "cpu"  # cpu | cuda (resolved, not "auto")
    compute_type: str = "int8"
    language: str | None = None  # None: detect per window
    beam_size: int = 5
    vad_filter: bool = True
    vad_min_silence_ms: int = 700
    batch_size: int = 8
    pack_clips: bool = True
    threads: int = 0
    gap_s: float = 0.6  # silence between packed clips (VAD already leaves ~0.4 s each side)
    window_s: float = 28.0  # fill at most this much of the 30 s window


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    try:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:
        return "cpu"


def resolve_compute_type(compute_type: str, device: str) -> str:
    if compute_type != "auto":
        return compute_type
    return "float16" if device == "cuda" else "int8"


@dataclass
class _Acc:  # what one clip has gathered so far across its windows
    texts: list[str]
    ntok: int = 0
    logp: float = 0.0
    no_speech: float | None = None
    language: str = ""
    language_prob: float | None = None
    packed: bool = False
    suspect: bool = False  # its shared window looped (Whisper's compression-ratio test)


class WhisperBackend:
    name = "faster-whisper"

    def __init__(self, model_path: Path | str, settings: WhisperSettings,
                 model_id: str = "") -> None:
        from faster_whisper import WhisperModel

        self.settings = s = settings
        self.model_id = model_id or Path(model_path).name
        threads = s.threads or (os.cpu_count() or 1)
        self.model = WhisperModel(str(model_path), device=s.device, compute_type=s.compute_type,
                                  cpu_threads=threads)
        self._tokenizers: dict[str, object] = {}

    @property
    def group_size(self) -> int:
        """Clips per ``transcribe`` call that keep the batches full (packing ~5 per window)."""
        return self.settings.batch_size * (6 if self.settings.pack_clips else 1)

    # -- helpers -------------------------------------------------------------------------
    def _tokenizer(self, language: str):
        from faster_whisper.tokenizer import Tokenizer

        if language not in self._tokenizers:
            self._tokenizers[language] = Tokenizer(
                self.model.hf_tokenizer, self.model.model.is_multilingual,
                task="transcribe", language=language)
        return self._tokenizers[language]

    def _speech(self, audio: np.ndarray) -> np.ndarray:
        if not self.settings.vad_filter:
            return audio
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        opts = VadOptions(min_silence_duration_ms=self.settings.vad_min_silence_ms)
        stamps = get_speech_timestamps(audio, opts)
        if not stamps:
            return audio[:0]
        return np.concatenate([audio[t["start"]:t["end"]] for t in stamps])

    # -- the interface -------------------------------------------------------------------
    def transcribe(self, clips: Sequence[ClipAudio]) -> Iterator[ClipResult]:
        pieces: list[tuple[int, np.ndarray]] = []
        speech_s: dict[int, float] = {}
        for i, clip in enumerate(clips):
            try:
                speech = self._speech(clip.audio)
            except Exception as e:  # noqa: BLE001 -- one bad clip must not stop the rest
                yield ClipResult(clip.key, error=f"VAD failed: {e}")
                continue
            speech_s[i] = len(speech) / SAMPLE_RATE
            if speech_s[i] < MIN_SPEECH_S:
                yield ClipResult(clip.key, speech_s=round(speech_s[i], 3),
                                 language=self.settings.language or "")
                continue
            pieces += [(i, p) for p in split_long(speech, self.settings.window_s)]

        windows = pack(pieces, max_s=self.settings.window_s, gap_s=self.settings.gap_s,
                       pack_clips=self.settings.pack_clips)
        last = {sp.clip: k for k, w in enumerate(windows) for sp in w.spans}
        accs: dict[int, _Acc] = {}
        retry: list[int] = []
        bs = self.settings.batch_size
        for b in range(0, len(windows), bs):
            batch = windows[b:b + bs]
            try:
                self._decode(batch, accs)
            except Exception as e:  # noqa: BLE001
                for w in batch:
                    for sp in w.spans:
                        accs.pop(sp.clip, None)
                        if speech_s.pop(sp.clip, None) is not None:
                            yield ClipResult(clips[sp.clip].key,
                                             error=f"transcription failed: {e}")
            # clips whose last window is decoded are final: report them now (live progress)
            for i in [i for i in accs if last[i] < b + bs]:
                acc = accs.pop(i)
                if i not in speech_s:
                    continue
                empty = not "".join(acc.texts).strip() and speech_s[i] >= 0.5
                if acc.packed and (empty or acc.suspect):
                    retry.append(i)  # no word landed here, or the window looped: ask alone
                    continue
                yield self._result(clips[i].key, acc, speech_s[i])
        if retry:
            solo = pack([p for p in pieces if p[0] in set(retry)], max_s=self.settings.window_s,
                        pack_clips=False)
            for b in range(0, len(solo), bs):
                try:
                    self._decode(solo[b:b + bs], accs)
                except Exception as e:  # noqa: BLE001
                    for w in solo[b:b + bs]:
                        accs.pop(w.spans[0].clip, None)
                        yield ClipResult(clips[w.spans[0].clip].key,
                                         error=f"transcription failed: {e}")
            for i, acc in accs.items():
                yield self._result(clips[i].key, acc, speech_s[i])

    @staticmethod
    def _result(key: str, acc: _Acc, speech_s: float) -> ClipResult:
        return ClipResult(
            key, text="".join(acc.texts).strip(), language=acc.language,
            language_prob=acc.language_prob,
            avg_logprob=round(acc.logp / acc.ntok, 4) if acc.ntok else None,
            no_speech_prob=acc.no_speech, speech_s=round(speech_s, 3), packed=acc.packed)

    def _decode(self, batch: list[Window], accs: dict[int, _Acc]) -> None:
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.transcribe import get_suppressed_tokens

        model, s = self.model, self.settings
        feats = [model.feature_extractor(w.audio)[..., :-1] for w in batch]
        nframes = [f.shape[-1] for f in feats]
        enc = model.encode(np.stack([pad_or_trim(f) for f in feats]))

        if s.language is None and model.model.is_multilingual:
            detected = [(r[0][0][2:-2], float(r[0][1])) for r in model.model.detect_language(enc)]
        else:
            detected = [(s.language or "en", 1.0)] * len(batch)
        toks = [self._tokenizer(lang) for lang, _ in detected]
        prompts = [model.get_prompt(t, [], without_timestamps=True) for t in toks]
        results = model.model.generate(
            enc, prompts, beam_size=s.beam_size, max_length=model.max_length,
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(toks[0], [-1]))
        tokens = [list(r.sequences_ids[0]) for r in results]

        # Word timings only where clips share a window; the alignment prompt uses the first
        # window's language (the language token barely moves cross-attention timings).
        aligned = None
        if any(len(w.spans) > 1 for w in batch):
            aligned = model.find_alignment(toks[0], tokens, enc, nframes)

        for k, (w, r) in enumerate(zip(batch, results)):
            lang, lang_p = detected[k]
            if len(w.spans) == 1 or aligned is None:
                sp = w.spans[0]
                n = len(tokens[k])
                acc = accs.setdefault(sp.clip, _Acc([], language=lang, language_prob=lang_p))
                acc.texts.append(toks[k].decode(tokens[k]))
                acc.ntok += n + 1  # as faster-whisper: cumulative log-prob / (length + 1)
                acc.logp += r.scores[0] * n  # scores are length-normalised
                acc.no_speech = max(acc.no_speech or 0.0, float(r.no_speech_prob))
                continue
            words = [dict(word=x["word"], start=x["start"], end=x["end"], ntok=len(x["tokens"]),
                          logp=len(x["tokens"]) * math.log(max(float(x["probability"]), 1e-9)))
                     for x in aligned[k]]
            by_clip = assign_words(w.spans, attach_punctuation(words))
            ratio = compression_ratio(toks[k].decode(tokens[k])) or 0.0
            for sp in w.spans:
                acc = accs.setdefault(sp.clip, _Acc([], language=lang, language_prob=lang_p))
                acc.packed = True
                acc.suspect = acc.suspect or ratio > LOOP_RATIO
                mine = by_clip.get(sp.clip, [])
                acc.texts.append("".join(x["word"] for x in mine))
                acc.ntok += sum(x["ntok"] for x in mine)
                acc.logp += sum(x["logp"] for x in mine)
                acc.no_speech = max(acc.no_speech or 0.0, float(r.no_speech_prob))
