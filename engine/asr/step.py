"""The ASR step: clips in ``audio/slices`` → ``asr/<slug>.list`` + ``asr/records.jsonl``.

Records double as the cache: a clip whose audio hash and settings key match its record is
not transcribed again, so a re-run only handles new or changed clips. Records are rewritten
after every group of clips, so a stopped or killed run resumes where it left off.

The list belongs to the proofreading record: the result is merged into it once, at the end
(:func:`engine.dataset.proofread.record.merge_asr_result`), so clips a person edited, reviewed
or deleted keep their state, even with an editor open on the list.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Generator, Iterator

from engine.asr.audio import CLIP_EXTS, ClipDecodeError, load_clip
from engine.asr.backend import (SAMPLE_RATE, Backend, ClipAudio, ClipResult,
                                compression_ratio)
from engine.asr.models import (FUNASR_MODELS, WHISPER_MODELS, backend_of, funasr_spec,
                               recommend, whisper_spec)
from engine.asr.records import AsrRecord, file_sha256, read_records, settings_key, write_records
from engine.asr.request import AsrRequest
from engine.dataset.listfile import ListEntry
from engine.dataset.proofread.merge import AsrMerge
from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.layout import Layout
from engine.settings import validate

STEP = "asr"


def project_layout(root: Path) -> Layout:
    """The project's layout; a bare folder (no project.toml) gets a slug from its name."""
    try:
        from engine.project import load_project

        return load_project(root).layout
    except Exception:  # noqa: BLE001 -- no/odd project file: still usable on a plain folder
        from engine.slug import slugify

        return Layout(root, slugify(root.resolve().name) or "voice")


def backend_of_folder(folder: Path) -> str | None:
    """A CTranslate2 Whisper folder holds model.bin; a FunASR one config.yaml + model.pt."""
    if (folder / "model.bin").is_file():
        return "faster-whisper"
    if (folder / "model.pt").is_file() and (folder / "config.yaml").is_file():
        return "funasr"
    return None


def choose_model(req: AsrRequest, device: str) -> tuple[str, str]:
    """(backend, model): the request's, or the recommendation for its language."""
    if req.model_dir:
        backend = req.backend if req.backend != "auto" else (
            backend_of_folder(Path(req.model_dir).expanduser()) or "faster-whisper")
        return backend, req.model or Path(req.model_dir).name
    if req.model:
        backend = req.backend if req.backend != "auto" else backend_of(req.model)
        return backend, req.model
    rec = recommend(req.language, device)
    if req.backend not in ("auto", rec.backend):
        return req.backend, ("small" if req.backend == "faster-whisper" else "sensevoice")
    return rec.backend, rec.model


def list_clips(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in CLIP_EXTS and not p.name.startswith("."))


def open_backend(req: AsrRequest, backend: str, model: str, device: str
                 ) -> Generator[Event, None, Backend]:
    from engine.hub import ensure_model

    explicit = req.model_dir or None
    if backend == "faster-whisper":
        from engine.asr.whisper import WhisperBackend, WhisperSettings, resolve_compute_type

        if not explicit and model not in WHISPER_MODELS:
            raise StepError(f"Unknown Whisper model {model!r}.",
                            f"Pick one of {', '.join(WHISPER_MODELS)}, or set model_dir.")
        path = yield from ensure_model(whisper_spec(model) if not explicit else
                                       _any_spec(model, explicit),
                                       explicit, allow_download=req.allow_download, step=STEP)
        settings = WhisperSettings(
            device=device, compute_type=resolve_compute_type(req.compute_type, device),
            language=None if req.language == "auto" else req.language,
            beam_size=req.beam_size, vad_filter=req.vad_filter,
            vad_min_silence_ms=req.vad_min_silence_ms, batch_size=req.batch_size,
            pack_clips=req.pack_clips, threads=req.threads)
        yield Log(f"Loading faster-whisper {model} from {path} ({device}, "
                  f"{settings.compute_type})")
        return WhisperBackend(path, settings, model_id=model)
    if backend == "funasr":
        from engine.asr.funasr_backend import FunAsrBackend, companions

        if not explicit and model not in FUNASR_MODELS:
            raise StepError(f"Unknown FunASR model {model!r}.",
                            f"Pick one of {', '.join(FUNASR_MODELS)}, or set model_dir.")
        spec = funasr_spec(model) if not explicit else _any_spec(model, explicit, funasr=True)
        path = yield from ensure_model(spec, explicit, allow_download=req.allow_download,
                                       step=STEP)
        extra: dict[str, Path] = {}
        if not explicit:  # a user's own folder is taken as the whole model
            for role, name in companions(model).items():
                extra[role] = yield from ensure_model(funasr_spec(name),
                                                      allow_download=req.allow_download,
                                                      step=STEP)
        yield Log(f"Loading FunASR {model} from {path} ({device})")
        return FunAsrBackend(path, model_id=model, device=device, language=req.language,
                             batch_size=req.batch_size, **extra)
    raise StepError(f"Unknown ASR backend {backend!r}.", "Use faster-whisper or funasr.")


def _any_spec(model: str, folder: str, funasr: bool = False):
    from engine.asr.models import FUNASR_FILES, WHISPER_FILES
    from engine.hub import ModelSpec

    return ModelSpec(model or Path(folder).name, "(your own folder)",
                     FUNASR_FILES if funasr else WHISPER_FILES)


def _record(res: ClipResult, clip: str, sha: str, key: str, duration: float, backend: str,
            model: str, language: str) -> AsrRecord:
    return AsrRecord(clip=clip, sha256=sha, key=key, text=res.text,
                     language=res.language or ("" if language == "auto" else language),
                     language_prob=res.language_prob, avg_logprob=res.avg_logprob,
                     no_speech_prob=res.no_speech_prob,
                     compression_ratio=compression_ratio(res.text), duration_s=round(duration, 3),
                     speech_s=res.speech_s, backend=backend, model=model, packed=res.packed,
                     error=res.error)


def list_text(text: str) -> str:
    """A transcript as the .list holds it: one line, no field separator."""
    return " ".join(text.replace("|", " ").split())


def write_outputs(layout: Layout, records: dict[str, AsrRecord]) -> None:
    """The records file (everything, the cache); the list is merged once at the end."""
    write_records(layout.asr_records, [records[k] for k in sorted(records)])


def merge_into_list(layout: Layout, records: dict[str, AsrRecord], old: dict[str, AsrRecord],
                    speaker: str) -> tuple[int, AsrMerge]:
    """Merge clips with text (no errors) into the list through the proofreading record;
    returns how many clips ASR listed and what the merge did."""
    from engine.dataset.proofread.record import merge_asr_result

    def key(clip: str) -> str:
        return str(layout.abs(clip).resolve())

    ordered = [records[k] for k in sorted(records)]
    entries = [ListEntry(key(r.clip), speaker, (r.language or "auto").upper(), list_text(r.text))
               for r in ordered if r.ok and r.text.strip()]
    # what versions before the proofreading record wrote to the list: their records' texts
    before = {key(r.clip): list_text(r.text) for r in old.values() if r.ok and r.text.strip()}
    merged = merge_asr_result(layout.list_file, layout.proofread_journal, layout.root, entries,
                              known={key(c) for c in (*records, *old)},
                              offered_before=before)
    return len(entries), merged


CHINESE = ("zh", "yue")


def refine_chinese(request: AsrRequest, layout: Layout, records: dict[str, AsrRecord],
                   device: str) -> Generator[Event, None, int]:
    """Upstream's rule in auto mode: clips Whisper heard as Chinese or Cantonese are
    transcribed again by FunASR (Paraformer / SenseVoice). Without those models the
    Whisper text stays, with a warning. Returns how many clips were redone."""
    if request.backend != "auto" or request.language != "auto":
        return 0
    todo = [r for r in records.values()
            if r.ok and r.backend == "faster-whisper" and r.language in CHINESE]
    redone = 0
    for lang in CHINESE:
        group = [r for r in todo if r.language == lang]
        if not group:
            continue
        model = recommend(lang, device).model
        yield Log(f"{len(group)} clip(s) heard as {lang}: transcribing them with FunASR "
                  f"{model}, as upstream does")
        try:
            backend = yield from open_backend(  # model_dir, if any, is the Whisper folder
                dataclasses.replace(request, language=lang, model_dir="", model=model),
                "funasr", model, device)
        except StepError as e:
            yield Log(f"Kept Whisper's text for the {lang} clips: {e.reason} {e.hint}",
                      level="warning")
            continue
        clips = []
        for r in group:
            try:
                clips.append(ClipAudio(r.clip, load_clip(layout.abs(r.clip))))
            except ClipDecodeError:
                continue
        for res in backend.transcribe(clips):
            old = records[res.key]
            if res.error:
                yield Log(f"{Path(res.key).name}: FunASR failed ({res.error}); kept Whisper's "
                          "text", level="warning")
                continue
            records[res.key] = dataclasses.replace(
                old, text=res.text, backend="funasr", model=model, avg_logprob=None,
                no_speech_prob=None, compression_ratio=compression_ratio(res.text),
                packed=False)
            redone += 1
    return redone


def run_asr(request: AsrRequest, stop: StopToken | None = None) -> Iterator[Event]:
    validate(request)
    layout = project_layout(Path(request.project_root))
    clips_dir = layout.abs(request.clips_dir) if request.clips_dir else layout.slices_dir
    clips = list_clips(clips_dir)
    if not clips:
        raise StepError(f"No clips to transcribe in {clips_dir}.",
                        "Run the slice step first (gsv slice), or point clips_dir at a folder "
                        "of wav files.")
    from engine.asr.whisper import resolve_device

    device = resolve_device(request.device)
    backend_name, model = choose_model(request, device)
    speaker = request.speaker or layout.slug
    whisper = backend_name == "faster-whisper"  # Whisper-only knobs don't key FunASR runs
    key = settings_key(backend=backend_name, model=request.model_dir or model,
                       language=request.language,
                       **(dict(compute_type=request.compute_type, beam=request.beam_size,
                               vad=request.vad_filter, vad_ms=request.vad_min_silence_ms,
                               pack=request.pack_clips) if whisper else {}))
    yield Log(f"ASR: {backend_name} {model}, language {request.language}, {len(clips)} clips "
              f"in {layout.rel(clips_dir)}")

    old = read_records(layout.asr_records)
    records: dict[str, AsrRecord] = {}
    todo: list[tuple[str, Path, str]] = []
    for path in clips:
        rel = layout.rel(path)
        sha = file_sha256(path)
        rec = old.get(rel)
        if rec is not None and rec.ok and rec.sha256 == sha and rec.key == key:
            records[rel] = rec
        else:
            todo.append((rel, path, sha))
    total = len(clips)
    yield Log(f"{len(records)} clip(s) cached, {len(todo)} to transcribe")
    yield Progress(STEP, len(records), total, message="cached")

    failed = transcribed = 0
    stopped = False
    t0 = time.monotonic()
    if todo:
        backend = yield from open_backend(request, backend_name, model, device)
        group = max(1, getattr(backend, "group_size", request.batch_size))
        for g in range(0, len(todo), group):
            if stop is not None and stop.requested:
                stopped = True
                break
            batch, meta = [], {}
            for rel, path, sha in todo[g:g + group]:
                try:
                    audio = load_clip(path)
                except ClipDecodeError as e:
                    records[rel] = AsrRecord(rel, sha, key, backend=backend_name, model=model,
                                             error=str(e))
                    failed += 1
                    transcribed += 1
                    yield Log(f"{path.name}: {e}; skipped", level="warning")
                    continue
                batch.append(ClipAudio(rel, audio))
                meta[rel] = (sha, len(audio) / SAMPLE_RATE)
            results = backend.transcribe(batch)
            for res in results:
                sha, dur = meta[res.key]
                transcribed += 1
                records[res.key] = _record(res, res.key, sha, key, dur, backend_name, model,
                                           request.language)
                if res.error:
                    failed += 1
                    yield Log(f"{Path(res.key).name}: {res.error}; skipped", level="warning")
                done = len(records)
                rate = (done - (total - len(todo))) / max(time.monotonic() - t0, 1e-6)
                yield Progress(STEP, done, total, eta_s=(total - done) / rate if rate else None,
                               message=f"{Path(res.key).name}: {res.text[:60]}",
                               metrics={"clips_per_s": round(rate, 3)})
                if stop is not None and stop.requested:  # results come per window batch
                    break
            write_outputs(layout, records)

    stopped = stopped or (stop is not None and stop.requested)
    refined = 0
    if stopped:
        yield Log("Stopped; run asr again to finish the remaining clips", level="warning")
    elif backend_name == "faster-whisper":
        refined = yield from refine_chinese(request, layout, records, device)
    write_outputs(layout, records)
    yield Artifact(layout.rel(layout.asr_records), kind="records")
    empty = sum(1 for r in records.values() if r.ok and not r.text.strip())
    if empty:
        yield Log(f"{empty} clip(s) had no speech or no text; left out of the .list",
                  level="warning")
    if not any(r.ok and r.text.strip() for r in records.values()):
        raise StepError("No clip produced a transcript.",  # (the list is left as it was)
                        "Check the clips hold speech, the language setting, or try another "
                        "model.")
    listed, merged = merge_into_list(layout, records, old, speaker)
    yield Log("Merged into the proofreading record: " + merged.summary())
    yield Artifact(layout.rel(layout.list_file), kind="list")
    dt = time.monotonic() - t0
    yield Result(f"{listed} clips listed ({transcribed} new, {total - len(todo)} cached, "
                 f"{failed} failed) in {dt:.1f} s; {merged.summary()}"
                 + (", stopped" if stopped else ""),
                 data={"listed": listed, "new": transcribed, "cached": total - len(todo),
                       "remaining": len(todo) - transcribed, "stopped": stopped,
                       "refined_by_funasr": refined,
                       "failed": failed, "empty": empty, "backend": backend_name,
                       "model": model, "list": layout.rel(layout.list_file),
                       "records": layout.rel(layout.asr_records),
                       "kept_edits": merged.kept, "added": merged.added,
                       "changed": merged.changed, "removed": merged.removed,
                       "taken_in": merged.taken_in})
