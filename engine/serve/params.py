"""Request bodies of both dialects -> one :class:`SpeechJob`, every value checked before a
request is queued. Ranges and choices are the synthesize step's own knobs
(``SynthRequest``), so the API accepts exactly what ``gsv synthesize`` accepts.

OpenAI (``/v1/audio/speech``): model, input, voice, response_format, speed (+ our
``language``). Upstream api_v2 (``/tts``): text, text_lang, ref_audio_path,
aux_ref_audio_paths, prompt_text, prompt_lang, top_k, top_p, temperature,
repetition_penalty, text_split_method, speed_factor, fragment_interval, seed, media_type,
streaming_mode / return_fragment; its batching and v3 knobs are accepted and ignored (this
engine speaks piece by piece)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from engine.events import StepError

# api_v2 language codes -> the engine's text modes (zh/ja read Latin runs as English, as
# upstream's "zh"/"ja"; its all_* modes are the closest we have).
TEXT_LANGS = {"zh": "zh", "all_zh": "zh", "en": "en", "ja": "ja", "all_ja": "ja", "auto": "auto"}
PROMPT_LANGS = {"zh": "zh", "all_zh": "zh", "en": "en", "ja": "ja", "all_ja": "ja"}
OPENAI_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
V2_FORMATS = ("wav", "raw", "ogg", "aac", "flac", "mp3", "opus", "pcm")
IGNORED_V2 = ("batch_size", "batch_threshold", "split_bucket", "parallel_infer", "sample_steps",
              "super_sampling", "overlap_length", "min_chunk_length", "fixed_length_chunk")


class ApiError(Exception):
    """An answer other than audio: HTTP status, a sentence, and what to do."""

    def __init__(self, status: int, message: str, hint: str = "", kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.hint, self.kind = status, message, hint, kind

    def body(self) -> dict:
        text = self.message + (f" {self.hint}" if self.hint else "")
        # "message" at the top for api_v2 scripts, "error" as OpenAI clients expect it.
        return {"message": text, "error": {"message": text, "type": self.kind,
                                           "code": self.status, "hint": self.hint}}


@dataclass
class SpeechJob:
    text: str
    voice: str = ""  # served voice asked for ("" = the only one / the default)
    model: str = ""  # OpenAI's model field: names a served voice too, if it matches one
    language: str = ""  # engine text mode ("" = the voice's own language)
    ref_wav: str = ""  # "" = the voice's reference
    ref_text: str | None = None  # None = the voice's reference text
    ref_language: str = ""
    aux_refs: list[str] = field(default_factory=list)
    # None: the voice's own setting (the project's stored synthesize settings or the
    # bundle's [inference]); upstream's defaults where it has none.
    cut_method: str | None = None
    top_k: int | None = None
    top_p: float | None = None
    temperature: float | None = None
    repetition_penalty: float | None = None
    speed: float | None = None
    pause_s: float | None = None
    seed: int | None = None  # None or -1: a new random seed
    fmt: str = "wav"
    rate: int = 0  # output sample rate (0 = the voice's)
    stream: bool = False


# SpeechJob attribute -> the SynthRequest knob that bounds it (same names).
CHECKED = ("cut_method", "top_k", "top_p", "temperature", "repetition_penalty", "speed",
           "pause_s", "seed")
V2_NAMES = {"cut_method": "text_split_method", "speed": "speed_factor",
            "pause_s": "fragment_interval"}


def _knob_fields() -> dict[str, dataclasses.Field]:
    from engine.settings import knobs
    from engine.synth.request import SynthRequest

    return {f.name: f for f in knobs(SynthRequest)}


_KIND = {float: "a number", int: "a whole number"}


def _number(param: str, value: Any, kind: type) -> Any:
    """JSON numbers as they come; query-string text converted (upstream's GET /tts)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ApiError(422, f"{param} = {value!r} is not a number.")
    if isinstance(value, str):
        try:
            value = float(value) if kind is float else int(value.strip())
        except ValueError:
            raise ApiError(422, f"{param} = {value!r} is not {_KIND[kind]}.")
    if kind is float and isinstance(value, int):
        value = float(value)
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, kind):
        raise ApiError(422, f"{param} = {value!r} is not {_KIND[kind]}.")
    return value


def _flag(param: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise ApiError(422, f"{param} = {value!r} is not true or false.")


def _text(param: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ApiError(422, f"{param} must be text, not {type(value).__name__}.")
    return value


def check_text(text: str, max_chars: int) -> str:
    if len(text) > max_chars:
        raise ApiError(413, f"The text is {len(text)} characters long; this server takes at most "
                            f"{max_chars} per request.",
                       "Send it in shorter parts, or start gsv serve with a larger --max-chars.",
                       kind="text_too_long")
    if not text.strip():
        raise ApiError(422, "There is no text to speak.", "Send the words the voice should say.")
    return text


def _checked(job: SpeechJob, names: dict[str, str]) -> SpeechJob:
    """Each setting against the synthesize step's knob (range, choices), named as sent."""
    from engine.settings import problem

    fields = _knob_fields()
    for attr in CHECKED:
        value = getattr(job, attr)
        err: StepError | None = None if value is None else problem(fields[attr], value)
        if err is not None:
            raise ApiError(422, f"{names.get(attr, attr)}: {err.reason}", err.hint)
    return job


def _lang(param: str, value: Any, table: dict[str, str]) -> str:
    code = _text(param, value).strip().lower()
    if code == "":
        return ""
    if code not in table:
        raise ApiError(422, f"{param} = {value!r} is not a language this voice can read.",
                       f"Use one of {', '.join(table)}.")
    return table[code]


def openai_job(body: dict, max_chars: int) -> SpeechJob:
    if "input" not in body:
        raise ApiError(422, "The request has no input (the text to speak).",
                       'Send JSON like {"model": "tts-1", "input": "Hello", "voice": "alloy"}.')
    text = check_text(_text("input", body["input"]), max_chars)
    fmt = _text("response_format", body.get("response_format", "mp3")).lower()
    if fmt not in OPENAI_FORMATS:
        raise ApiError(422, f"response_format = {fmt!r} is not supported.",
                       f"Use one of {', '.join(OPENAI_FORMATS)}.")
    if body.get("stream_format", "audio") != "audio":
        raise ApiError(422, f"stream_format = {body['stream_format']!r} is not supported.",
                       'Use "audio" (the response streams as it is spoken).')
    job = SpeechJob(text=text, voice=_text("voice", body.get("voice") or ""),
                    model=_text("model", body.get("model") or ""), fmt=fmt,
                    language=_lang("language", body.get("language", ""), TEXT_LANGS),
                    speed=_number("speed", body.get("speed"), float), stream=True,
                    rate=24000 if fmt == "pcm" else 0)  # OpenAI's pcm is 24 kHz s16le
    return _checked(job, {})


def v2_job(body: dict, max_chars: int) -> SpeechJob:
    if "text" not in body:
        raise ApiError(400, "text is required (the words to speak).",
                       "Send text and text_lang, as upstream's api_v2 expects.")
    text = check_text(_text("text", body["text"]), max_chars)
    fmt = _text("media_type", body.get("media_type", "wav")).lower()
    if fmt not in V2_FORMATS:
        raise ApiError(400, f"media_type = {fmt!r} is not supported.",
                       f"Use one of {', '.join(V2_FORMATS)}.")
    mode = body.get("streaming_mode", False)
    if isinstance(mode, str) and mode.strip().isdigit():
        mode = int(mode)
    stream = (mode in (1, 2, 3) if isinstance(mode, int) and not isinstance(mode, bool)
              else _flag("streaming_mode", mode))
    stream = stream or _flag("return_fragment", body.get("return_fragment", False))
    aux = body.get("aux_ref_audio_paths") or []
    if not isinstance(aux, list) or not all(isinstance(a, str) for a in aux):
        raise ApiError(422, "aux_ref_audio_paths must be a list of file paths.")
    prompt = body.get("prompt_text")
    if isinstance(prompt, str) and len(prompt) > max_chars:
        raise ApiError(413, f"prompt_text is {len(prompt)} characters long; at most {max_chars}.",
                       "Send what the 3–10 s reference clip says.", kind="text_too_long")
    job = SpeechJob(
        text=text, voice=_text("voice", body.get("voice", "")),
        language=_lang("text_lang", body.get("text_lang", ""), TEXT_LANGS),
        ref_wav=_text("ref_audio_path", body.get("ref_audio_path") or ""),
        ref_text=None if prompt is None else _text("prompt_text", prompt),
        ref_language=_lang("prompt_lang", body.get("prompt_lang", ""), PROMPT_LANGS),
        aux_refs=list(aux),
        cut_method=None if body.get("text_split_method") is None
        else _text("text_split_method", body["text_split_method"]),
        top_k=_number("top_k", body.get("top_k"), int),
        top_p=_number("top_p", body.get("top_p"), float),
        temperature=_number("temperature", body.get("temperature"), float),
        repetition_penalty=_number("repetition_penalty", body.get("repetition_penalty"), float),
        speed=_number("speed_factor", body.get("speed_factor"), float),
        pause_s=_number("fragment_interval", body.get("fragment_interval"), float),
        seed=_number("seed", body.get("seed"), int),
        fmt={"raw": "pcm", "ogg": "opus"}.get(fmt, fmt), stream=stream)
    return _checked(job, V2_NAMES)
