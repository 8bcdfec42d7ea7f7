"""The voices a server speaks with: the project's (its newest weights and reference, as
``gsv synthesize`` picks them, with its stored settings) or exported bundles (their
``voice.toml``). :func:`find_sources` is light and checks everything it can before any model
loads; :func:`load` reads the weights and prepares the default reference once.

Synthesis calls the engine's pipeline (``prepare_reference``, ``speak``) directly, with the
models kept loaded between requests; each voice is only ever used by its own worker thread,
and the BERT/HuBERT models they share are behind one lock."""
from __future__ import annotations

import secrets
import threading
import tomllib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from engine.events import Event, Log, StepError
from engine.serve.params import ApiError, SpeechJob

# Reference clips api_v2 requests may name: audio files only, inside a served folder.
REF_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".mp3", ".opus", ".m4a", ".aac"})
REF_MAX_BYTES = 50 * 1024 * 1024
SETTING_KEYS = ("cut_method", "top_k", "top_p", "temperature", "repetition_penalty", "speed",
                "pause_s")
REF_CACHE = 8  # prepared references kept per voice (HuBERT + quantizer: ~1 s each on CPU)


@dataclass
class VoiceSource:
    name: str
    root: Path  # project folder or bundle folder
    kind: str  # "project" | "bundle"
    version: str
    gpt: Path
    sovits: Path
    ref_wav: Path
    ref_text: str  # "" = reference-free
    ref_language: str
    language: str  # the text language when a request names none
    settings: dict[str, Any] = field(default_factory=dict)  # SETTING_KEYS


def from_project(root: Path) -> VoiceSource:
    from engine.project import ProjectError, load_project
    from engine.requests import build_request
    from engine.synth import reference, weights

    try:
        project = load_project(root)
    except ProjectError as exc:
        raise StepError(str(exc), "Run gsv serve in a project folder (-C PATH), or serve "
                                  "exported voices with --bundle DIR.")
    req = build_request(project, "synthesize", {}, inputs={"text": ""})
    layout = project.layout
    gpt = weights.pick(layout, req.gpt_path, "GPT")
    sovits = weights.pick(layout, req.sovits_path, "SoVITS")
    ref = reference.resolve(layout, req.ref_wav, req.ref_text, req.ref_language, req.ref_free)
    return VoiceSource(layout.slug, project.root, "project", project.version, gpt, sovits,
                       layout.abs(ref.wav), ref.text, ref.language, req.language,
                       {k: getattr(req, k) for k in SETTING_KEYS})


def from_bundle(folder: Path) -> VoiceSource:
    from engine.synth.export import SETTINGS_FILE
    from engine.synth.reference import check_length, clip_seconds

    folder = folder.expanduser().resolve()
    try:
        doc = tomllib.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
        voice, ref = doc["voice"], doc["reference"]
        files = {k: folder / voice[k] for k in ("gpt", "sovits")} | {"ref": folder / ref["wav"]}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise StepError(f"{folder} is not a voice bundle ({SETTINGS_FILE} unreadable: {exc}).",
                        "Point --bundle at a folder gsv export wrote.")
    for key, path in files.items():
        if not path.resolve().is_relative_to(folder) or not path.is_file():
            raise StepError(f"The bundle {folder.name} lacks {path.name}.",
                            "Export the voice again (gsv export).")
    check_length(clip_seconds(files["ref"]))
    settings = {k: v for k, v in (doc.get("inference") or {}).items() if k in SETTING_KEYS}
    lang = str(ref.get("language", "zh"))
    return VoiceSource(str(voice.get("name") or folder.name), folder, "bundle",
                       str(voice.get("version", "v2")), files["gpt"], files["sovits"],
                       files["ref"], str(ref.get("text", "")), lang, lang, settings)


def find_sources(project_root: str, bundles: list[str]) -> list[VoiceSource]:
    found = ([from_project(Path(project_root))] if project_root else []) + \
            [from_bundle(Path(b)) for b in bundles]
    if not found:
        raise StepError("There is no voice to serve.",
                        "Run gsv serve in a project folder with trained weights, or name "
                        "exported voices with --bundle DIR.")
    seen: dict[str, int] = {}
    for src in found:  # two bundles of one voice: voice, voice-2
        n = seen[src.name] = seen.get(src.name, 0) + 1
        if n > 1:
            src.name = f"{src.name}-{n}"
    return found


class _Locked:
    """A feature model several voice threads share, one call at a time (tokenizers and
    modules are not safe to share across threads)."""

    def __init__(self, fn: Callable, lock: threading.Lock) -> None:
        self.fn, self.lock = fn, lock

    def __call__(self, *args: Any) -> Any:
        with self.lock:
            return self.fn(*args)


@dataclass
class Helpers:
    device: str
    bert_dir: str = ""
    hubert_dir: str = ""
    allow_download: bool = True
    bert: Any = None
    hubert: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, bert: bool, hubert: bool, allow_download: bool | None = None) -> Iterator[Event]:
        from engine.synth.voice import load_helpers

        with self.lock:
            want_b, want_h = bert and self.bert is None, hubert and self.hubert is None
            if not (want_b or want_h):
                return
            b, h = yield from load_helpers(
                self.device, bert=want_b, hubert=want_h, bert_dir=self.bert_dir,
                hubert_dir=self.hubert_dir,
                allow_download=self.allow_download if allow_download is None else allow_download)
            model_lock = threading.Lock()
            self.bert = _Locked(b, model_lock) if b is not None else self.bert
            self.hubert = _Locked(h, model_lock) if h is not None else self.hubert


    def load_now(self, needs_bert: bool, needs_hubert: bool) -> None:
        """What a request needs that start-up did not load, from disk only (a request never
        waits for a download)."""
        if (needs_bert and self.bert is None) or (needs_hubert and self.hubert is None):
            try:
                _drain(self.load(needs_bert, needs_hubert, allow_download=False), lambda line: None)
            except StepError as exc:
                raise ApiError(503, exc.reason, exc.hint, kind="model_missing")


@dataclass
class LoadedVoice:
    source: VoiceSource
    voice: Any  # engine.synth.pipeline.Voice
    helpers: Helpers
    allowed: list[Path]  # folders api_v2 references may come from
    refs: OrderedDict = field(default_factory=OrderedDict)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def rate(self) -> int:
        from engine.synth.pipeline import SR

        return SR

    def _models(self, bert: bool, hubert: bool) -> None:
        self.helpers.load_now(bert, hubert)
        self.voice.bert, self.voice.hubert = self.helpers.bert, self.helpers.hubert

    def _ref_path(self, given: str) -> Path:
        p = Path(given).expanduser()
        p = (p if p.is_absolute() else self.source.root / p).resolve()
        if p.suffix.lower() not in REF_SUFFIXES:
            raise ApiError(415, f"The reference {p.name} is not an audio file this server reads.",
                           f"Use one of {', '.join(sorted(REF_SUFFIXES))}.")
        if not any(p.is_relative_to(d) for d in self.allowed):
            raise ApiError(403, f"The reference {given} is outside the folders this server may read.",
                           "Use a clip inside the voice's folder, or start gsv serve with --ref-dir.")
        if not p.is_file():
            raise ApiError(404, f"The reference {given} does not exist.", "Check the path.")
        if p.stat().st_size > REF_MAX_BYTES:
            raise ApiError(413, f"The reference {p.name} is over {REF_MAX_BYTES >> 20} MB.",
                           "Use a 3–10 s clip.")
        return p

    def reference(self, job: SpeechJob) -> tuple[Any, str]:
        """The prepared reference for a job and its language (cached by file and text)."""
        from engine.audio.decode import DecodeError, probe
        from engine.synth.pipeline import prepare_reference
        from engine.synth.reference import check_length

        src = self.source
        if job.ref_wav:
            wav, text = self._ref_path(job.ref_wav), job.ref_text or ""  # api_v2: no text = free
            lang = job.ref_language or src.ref_language
        else:
            wav, lang = src.ref_wav, job.ref_language or src.ref_language
            text = src.ref_text if job.ref_text is None else job.ref_text
        extra = [self._ref_path(a) for a in job.aux_refs]
        pause = job.pause_s if job.pause_s is not None else src.settings.get("pause_s", 0.3)
        st = wav.stat()
        key = (str(wav), st.st_mtime_ns, st.st_size, text, lang, tuple(map(str, extra)), pause)
        if key in self.refs:
            self.refs.move_to_end(key)
            return self.refs[key], lang
        for p in [wav, *extra]:
            try:
                info = probe(p)
            except DecodeError as exc:
                raise ApiError(422, f"The reference {p.name} cannot be read ({exc.reason}).",
                               "Use a WAV/FLAC/OGG/MP3 clip of 3–10 s.")
            if info.frames is not None:
                check_length(info.frames / info.sample_rate)  # before decoding all of it
        self._models(bert=_needs_bert(lang) and bool(text), hubert=bool(text))
        ref = prepare_reference(self.voice, str(wav), text, lang, extra, pause_s=pause)
        self.refs[key] = ref
        while len(self.refs) > REF_CACHE:
            self.refs.popitem(last=False)
        return ref, lang

    def speak(self, job: SpeechJob) -> Iterator[Any]:
        """The job's text, piece by piece (float32 audio at the voice's rate, pause included)."""
        from engine.models.gpt import Sampling
        from engine.synth.pipeline import SpeakOptions, speak

        def get(name: str, default: Any) -> Any:  # the request's, else the voice's setting
            given = getattr(job, name)
            return self.source.settings.get(name, default) if given is None else given

        ref, _ = self.reference(job)
        language = job.language or self.source.language
        self._models(bert=_needs_bert(language), hubert=False)
        seed = job.seed if job.seed is not None and job.seed >= 0 else secrets.randbelow(2**31 - 1)
        opts = SpeakOptions(get("cut_method", "cut1"),
                            Sampling(get("top_k", 15), get("top_p", 1.0), get("temperature", 1.0),
                                     get("repetition_penalty", 1.35)),
                            seed, {}, get("speed", 1.0), pause_s=get("pause_s", 0.3))
        for piece in speak(self.voice, ref, job.text, language, opts):
            yield piece.audio


def _needs_bert(language: str) -> bool:
    from engine.synth.voice import needs_bert

    return needs_bert(language)


def _drain(events: Iterator[Event], log: Callable[[str], None]) -> Any:
    """Run a loading generator to its return value, printing its log lines."""
    while True:
        try:
            ev = next(events)
        except StopIteration as stop:
            return stop.value
        if isinstance(ev, Log):
            log(ev.line)


def load(sources: list[VoiceSource], device: str, precision: str, allow_download: bool,
         ref_dirs: list[str], log: Callable[[str], None]) -> list[LoadedVoice]:
    from engine.dataset.format.models import pick_device
    from engine.layout import Layout
    from engine.synth.voice import load_voice

    helpers = Helpers(pick_device(device), allow_download=allow_download)
    needs = any(_needs_bert(s.language) or (_needs_bert(s.ref_language) and s.ref_text)
                for s in sources)
    _drain(helpers.load(bert=needs, hubert=True), log)
    extra = [Path(d).expanduser().resolve() for d in ref_dirs]
    out = []
    for src in sources:
        layout = Layout(src.root, src.name)
        voice = _drain(load_voice(layout, src.version, src.gpt, src.sovits, helpers.device,
                                  helpers.bert, helpers.hubert, precision=precision,
                                  allow_download=allow_download), log)  # Pro: speaker model
        lv = LoadedVoice(src, voice, helpers, [src.root.resolve(), *extra])
        lv.reference(SpeechJob(text=""))  # the default reference, once, before serving
        out.append(lv)
        log(f"voice {src.name}: {src.kind} {src.root} (reference {src.ref_wav.name})")
    return out
