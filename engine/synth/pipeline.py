"""Speaking text in a trained voice: reference -> prompt, pieces -> GPT codes -> SoVITS audio
(upstream's classic ``get_tts_wav``, spec §7.1), with models already loaded.

Decision on the reference-silence oddity (spec §10.7): upstream appends ``pause * 32000``
zero samples to the *16 kHz* reference before HuBERT (0.6 s for the default 0.3 s pause).
We keep that amount, because the prompt codes (and so the GPT's start) then equal
upstream's for the same reference; the constant below names it.

Seeds: piece ``i`` is decoded with ``seed + i`` unless the caller gives it its own seed, and
the same seed drives SoVITS's noise. So re-rolling one sentence changes only that sentence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from engine.events import StepError
from engine.models.gpt import DecodeOptions, Sampling, Text2Semantic, decode
from engine.synth.reference import REF_MAX_S, REF_MIN_S
from engine.synth.split import SPLITS, split_text

SR = 32000
SAMPLES_PER_CODE = 2 * 640  # 25 Hz codes, upsampled x2, hop 640 at 32 kHz
REF_SILENCE_SAMPLES_16K_PER_PAUSE_S = 32000  # upstream's unit mix-up, kept on purpose
NOISE_SCALE = 0.5  # upstream's classic pipeline


@dataclass
class Voice:
    gpt: Text2Semantic
    sovits: torch.nn.Module
    version: str = "v2"
    max_sec: int = 54
    bert: Callable[[str, list[int]], torch.Tensor] | None = None  # zh: (text, word2ph) -> (1024, P)
    hubert: Callable[[np.ndarray], torch.Tensor] | None = None  # 16 kHz wav -> (1, 768, T)
    gpt_precision: str = "model"  # engine.models.gpt DecodeOptions.precision
    # v2Pro/v2ProPlus: each reference's speaker embedding (engine.synth.speaker)
    speaker: Any = None
    gpt_static: str = "auto"  # DecodeOptions.static: CUDA graphs on a GPU unless "off"
    batch_pieces: str = "off"  # engine.synth.batching: auto (GPU) / on / off
    # (piece text, language, seed) -> (phoneme ids, DecodeResult) decoded ahead in a batch
    decoded: dict = field(default_factory=dict)


@dataclass
class Reference:
    codes: torch.Tensor | None  # (T,) prompt semantic codes; None in reference-free mode
    phones: list[int]
    bert: torch.Tensor  # (1024, len(phones))
    specs: list[torch.Tensor] = field(default_factory=list)  # (1, 1025, N) per reference
    svs: list[torch.Tensor] | None = None  # v2Pro/v2ProPlus: [1, 20480] per reference, same order


@dataclass(frozen=True)
class SpeakOptions:
    cut_method: str = "cut1"
    sampling: Sampling = field(default_factory=Sampling)
    seed: int = 0
    piece_seeds: dict[int, int] = field(default_factory=dict)
    speed: float = 1.0
    noise_scale: float = NOISE_SCALE
    pause_s: float = 0.3

    def seed_for(self, i: int) -> int:
        return int(self.piece_seeds.get(i, self.seed + i))


@dataclass
class Piece:
    index: int
    count: int
    text: str
    seed: int
    tokens: int  # semantic codes the GPT wrote (audio = tokens * 1280 / speed samples)
    audio: np.ndarray  # float32 at 32 kHz, the pause included
    phones: int = 0  # phoneme ids of the piece (the back-check's duration-per-phone test)


@dataclass
class Take:
    """One reading of one piece with one seed."""

    seed: int
    tokens: int
    phones: int
    audio: np.ndarray  # float32 at 32 kHz, without the pause


def phones_and_bert(voice: Voice, text: str, language: str) -> tuple[list[int], torch.Tensor]:
    """Phoneme ids and phone-level BERT features of one piece, split into language runs
    (spec §5.3); BERT only for Chinese runs, zeros for the rest. ``language`` is a mode of
    :mod:`engine.text.mixed`: zh/ja also read Latin-letter runs as English, auto per run."""
    from engine.text.mixed import clean_mixed
    from engine.text.symbols import cleaned_text_to_sequence

    ids: list[int] = []
    feats: list[torch.Tensor] = []
    for seg, c in clean_mixed(text, language, voice.version):
        seg_ids = cleaned_text_to_sequence(c.phones, voice.version)
        if seg.lang == "zh" and voice.bert is not None and c.word2ph:
            feat = voice.bert(c.norm_text, c.word2ph).float().cpu()
        else:
            feat = torch.zeros(1024, len(seg_ids))
        ids += seg_ids
        feats.append(feat)
    if not ids:
        raise StepError(f"No speakable sounds in {text[:40]!r}.",
                        "Check the text's language setting, or write the words out.")
    return ids, torch.cat(feats, dim=1)


def _closed(text: str, language: str) -> str:
    text = text.strip("\n")
    return text if text and text[-1] in SPLITS else text + ("." if language == "en" else "。")


def reference_ssl(voice: Voice, wav: str | Path, pause_s: float = 0.3) -> torch.Tensor:
    """HuBERT features of the reference at 16 kHz (refused outside 3–10 s), with upstream's
    appended silence. Independent of the SoVITS weights, so callers may reuse it."""
    from engine.audio.decode import load_mono

    wav16, _ = load_mono(wav, 16000)
    seconds = len(wav16) / 16000
    if not REF_MIN_S <= seconds <= REF_MAX_S:
        raise StepError(f"The reference clip is {seconds:.1f} s long; it must be 3 to 10 s.",
                        "Pick a clip of 3–10 s (longer references make the voice worse).")
    if voice.hubert is None:
        raise StepError("No HuBERT model is loaded to read the reference.",
                        "Download chinese-hubert-base (gsv models) first.")
    silence = np.zeros(int(pause_s * REF_SILENCE_SAMPLES_16K_PER_PAUSE_S), dtype=np.float32)
    return voice.hubert(np.concatenate([wav16.astype(np.float32), silence]))


def prepare_reference(voice: Voice, wav: str | Path, text: str, language: str,
                      extra: list[str | Path] = (), pause_s: float = 0.3,
                      ssl: torch.Tensor | None = None) -> Reference:
    """Prompt codes from the reference, its phonemes, and the spectrogram(s) SoVITS takes
    its timbre from. Empty ``text``: reference-free mode (no prompt)."""
    from engine.audio.decode import load_mono
    from engine.models.sovits import reference_spec, ssl_to_codes

    # The main reference first, then the extra ones: SoVITS averages their timbre (upstream's
    # fast pipeline, TTS.py), speaker embeddings (Pro) paired with them in the same order.
    paths = [wav, *extra]
    audios = [load_mono(p, SR)[0] for p in paths]
    specs = [reference_spec(a) for a in audios]
    svs = None
    if getattr(getattr(voice.sovits, "cfg", None), "is_pro", False):
        if voice.speaker is None:
            raise StepError("This v2Pro/v2ProPlus voice has no speaker model loaded.",
                            "Fetch sv/pretrained_eres2netv2w24s4ep4.ckpt with `gsv models`.")
        svs = [voice.speaker.embed(p, a) for p, a in zip(paths, audios)]
    if not text.strip():
        return Reference(None, [], torch.zeros(1024, 0), specs, svs)
    if ssl is None:
        ssl = reference_ssl(voice, wav, pause_s)
    codes = ssl_to_codes(voice.sovits, ssl)
    phones, bert = phones_and_bert(voice, _closed(text, language), language)
    return Reference(codes, phones, bert, specs, svs)


def decode_options(voice: Voice, opts: SpeakOptions, seed: int | None) -> DecodeOptions:
    return DecodeOptions(sampling=opts.sampling, early_stop=50 * voice.max_sec, seed=seed,
                         precision=voice.gpt_precision, static=voice.gpt_static)


def speak_piece(voice: Voice, ref: Reference, piece: str, language: str, seed: int,
                opts: SpeakOptions) -> tuple[int, np.ndarray]:
    """One piece -> (token count, float32 audio at 32 kHz without the pause)."""
    take = speak_take(voice, ref, piece, language, seed, opts)
    return take.tokens, take.audio


def speak_take(voice: Voice, ref: Reference, piece: str, language: str, seed: int,
               opts: SpeakOptions) -> Take:
    """One piece read with ``seed`` (the same seed gives the same samples)."""
    from engine.models.sovits import synthesize

    ahead = voice.decoded.pop((piece, language, seed), None)  # engine.synth.batching
    if ahead is not None:
        ids, result = ahead
    else:
        prompt = None if ref.codes is None else ref.codes.view(1, -1)
        ids, bert = phones_and_bert(voice, piece, language)
        phones = torch.tensor([ref.phones + ids])
        feats = torch.cat([ref.bert, bert], dim=1).unsqueeze(0)
        result = decode(voice.gpt, phones, feats, prompt, decode_options(voice, opts, seed))
    codes = result.tokens if len(result.tokens) else torch.zeros(1, dtype=torch.long)
    torch.manual_seed(seed)  # SoVITS samples its latent noise from the global generator
    audio = synthesize(voice.sovits, codes, ids, ref.specs, opts.noise_scale, opts.speed,
                       sv_embs=ref.svs)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > 1:
        audio = audio / peak
    return Take(seed, int(len(result.tokens)), len(ids), audio.astype(np.float32))


def speak(voice: Voice, ref: Reference, text: str, language: str,
          opts: SpeakOptions = SpeakOptions()) -> Iterator[Piece]:
    """The text cut as ``opts.cut_method`` says, spoken piece by piece, each followed by
    ``pause_s`` of silence."""
    pieces = split_text(text, opts.cut_method, "en" if language == "en" else "zh")
    pause = np.zeros(int(opts.pause_s * SR), dtype=np.float32)
    for i, piece in enumerate(pieces):
        take = speak_take(voice, ref, piece, language, opts.seed_for(i), opts)
        yield Piece(i, len(pieces), piece, take.seed, take.tokens,
                    np.concatenate([take.audio, pause]), take.phones)
