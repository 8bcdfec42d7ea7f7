"""The format step (upstream's "1A"): a proofread ``.list`` -> ``logs/<slug>/`` exactly as
upstream's three preparation scripts write it, so its trainers (and ours) read it as is.

Per clip: text -> phones (engine.text), BERT features for Chinese lines, the 32 kHz wav and
HuBERT features, then semantic codes from the SoVITS quantizer. Every output file is written
atomically and every finished clip is journaled, so a re-run only does what is missing or
changed, and a killed run resumes where it stopped. With ``workers`` set the clips are
split over worker processes (engine.dataset.format.fanout), one per GPU or CPU process.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

from engine.dataset.format import expdir, fanout, sv
from engine.dataset.format.models import (BERT_SPEC, HUBERT_SPEC, SOVITS_BASES, pick_device,
                                          weights_spec)
from engine.dataset.format.plan import audio_stamp, key, read_clips
from engine.dataset.format.request import FormatRequest
from engine.dataset.format.work import (ClipWork, ModelFiles, load_models, process_clip,
                                        space_needed)
from engine.diskfull import DiskFull, on_full
from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.layout import Layout
from engine.settings import validate

STEP = "format"


def _layout_and_version(root: Path) -> tuple[Layout, str]:
    try:
        from engine.project import load_project

        p = load_project(root)
        return p.layout, p.version
    except Exception:  # noqa: BLE001 -- a bare folder without project.toml still works
        from engine.slug import slugify

        return Layout(root, slugify(root.resolve().name) or "voice"), "v2"


def run_format(request: FormatRequest, stop: StopToken | None = None) -> Iterator[Event]:
    validate(request)
    root = Path(request.project_root).expanduser()
    layout, project_version = _layout_and_version(root)
    version = project_version if request.version == "project" else request.version
    if version not in SOVITS_BASES:
        raise StepError(f"Model version {version} has no 1A format here.",
                        f"Use one of {', '.join(SOVITS_BASES)}.")
    list_path = layout.abs(request.list_path) if request.list_path else layout.list_file
    clips = read_clips(list_path, root)
    for c in clips:
        if not c.lang:
            yield Log(f"{c.name}: language {c.raw_lang!r} is not supported; clip skipped "
                      "(use ZH, EN or JA)", "warning")
    clips = [c for c in clips if c.lang]
    if not clips:
        raise StepError(f"No line of {list_path.name} is in a supported language.",
                        "Set each line's language to ZH, EN or JA in the Proofread step.")
    if any(c.lang == "zh" for c in clips):
        from engine.text import g2pw

        backend, why = g2pw.status()[:2]
        yield Log(f"Chinese polyphones: {backend} ({why})")  # the issue asks to say which ran
    exp = expdir.ExpDir(layout.exp_dir)
    journal = exp.read_journal()  # with what workers of an unfinished run journaled

    bert_id = Path(request.bert_dir).name if request.bert_dir else BERT_SPEC.name
    hubert_id = Path(request.hubert_dir).name if request.hubert_dir else HUBERT_SPEC.name
    sovits_id = (f"{Path(request.sovits_path).name}:{Path(request.sovits_path).stat().st_size}"
                 if request.sovits_path and Path(request.sovits_path).is_file() else version)
    # Pro speaks v2's phoneme table: its text rows are v2's (and stay valid across a switch).
    text_version = "v1" if version == "v1" else "v2"
    work = []
    for c in clips:
        text_key = key(text_version, c.lang, c.text, bert_id if c.lang == "zh" else "")
        audio_key = key(audio_stamp(c.wav), hubert_id)
        work.append(ClipWork(c, journal.get(c.name), exp, text_version, text_key, audio_key,
                             key(audio_key, sovits_id)))

    # Everything the remaining work needs is located (or fetched) before any clip is touched.
    device = pick_device(request.device)
    devices = fanout.parse_workers(request.workers, device)
    half = request.half and device == "cuda"
    shown = ", ".join(sorted(set(devices))) if devices else device
    files = yield from _locate(request, work, version, shown, half)
    sv_stale = (sv.stale(exp, [(w.clip.name, w.audio_key) for w in work], request.sv_path)
                if sv.wants_sv(version) else [])
    sv_model = None  # v2Pro/v2ProPlus add 1Ab's speaker part: 7-sv_cn/<clip>.pt
    if sv_stale:
        sv_model = yield from sv.locate_model(request.sv_path, request.allow_download, STEP)

    # What a killed run left: workers' journals folded in, half-written temp files and
    # part files removed (this run rewrites what it needs).
    exp.fold_journals()
    sv.fold_journals(exp.root)
    exp.remove_leftovers()
    exp.remove_parts()
    stale = set(sv_stale)
    shares = fanout.split([_weight(w, w.clip.name in stale) for w in work], len(devices))
    if shares:
        ordered, done_work, n_sv = yield from _fanned(
            request, exp, work, shares, devices, files, half, version, sv_model, stale, stop)
        if ordered is None:
            return
        with on_full(exp.root):
            n_text, n_sem = exp.merge_parts(len(shares))
    else:
        ordered, done_work, n_sv = yield from _in_process(
            request, exp, work, files, device, half, version, sv_model, stop)
        if ordered is None:
            return
        with on_full(exp.root):
            n_text, n_sem = exp.write_outputs(ordered)
    with on_full(exp.root):
        exp.compact(ordered)
        exp.remove_parts()
    for name in (expdir.NAME2TEXT, expdir.NAME2SEMANTIC):
        yield Artifact(layout.rel(exp.root / name), "1a")
    skipped = [{"name": r.name, "reason": _why_skipped(r)} for r in ordered
               if not (r.text_row and r.semantic)]
    named = ", ".join(f"{c['name']} ({c['reason']})" for c in skipped[:3])
    more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
    yield Result(f"Formatted {n_sem} clips for training ({done_work} processed now"
                 + (f"; {len(skipped)} skipped: {named}{more}" if skipped else "") + ").",
                 {"clips": len(work), "text": n_text, "semantic": n_sem, "processed": done_work,
                  "skipped": len(skipped), "skipped_clips": skipped,
                  "exp_dir": layout.rel(exp.root), "version": version,
                  "workers": len(shares) or 1}
                 | ({"sv": n_sv} if n_sv is not None else {}))


def _locate(request: FormatRequest, work: list[ClipWork], version: str, shown: str,
            half: bool) -> Iterator[Event]:
    """The model files the remaining work needs, fetched if allowed (returns ModelFiles)."""
    from engine.hub import ensure_model

    files = ModelFiles(version=version)
    if any(w.needs_bert for w in work):
        folder = yield from ensure_model(weights_spec(BERT_SPEC), request.bert_dir or None,
                                         allow_download=request.allow_download, step=STEP)
        yield Log(f"BERT: {folder} ({shown}{', fp16' if half else ''})")
        files.bert = str(folder)
    if any(w.audio for w in work):
        folder = yield from ensure_model(weights_spec(HUBERT_SPEC), request.hubert_dir or None,
                                         allow_download=request.allow_download, step=STEP)
        yield Log(f"HuBERT: {folder}")
        files.hubert = str(folder)
    if any(w.semantic for w in work):
        if request.sovits_path:
            sovits = Path(request.sovits_path).expanduser()
            if not sovits.is_file():
                raise StepError(f"The SoVITS file {sovits} does not exist.",
                                "Point sovits_path at a pretrained s2G*.pth, or leave it empty "
                                "for the base model.")
        else:
            spec = SOVITS_BASES[version]
            folder = yield from ensure_model(spec, allow_download=request.allow_download,
                                             step=STEP)
            sovits = folder / spec.files[0]
        yield Log(f"Semantic tokens: quantizer of {sovits.name}")
        files.sovits = str(sovits)
    return files


def _weight(w: ClipWork, sv_due: bool) -> float:
    """The work a clip still costs, for balancing the workers' shares: audio by its size."""
    if not (w.anything or sv_due):
        return 0.0
    if w.audio or w.semantic or sv_due:
        try:
            return float(max(w.clip.wav.stat().st_size, 4096))
        except OSError:
            return 4096.0
    return 4096.0  # text (and BERT) only


def _in_process(request, exp, work, files, device, half, version, sv_model, stop
                ) -> Iterator[Event]:
    """Every clip here, as before fanning out existed. Returns (records in list order,
    clips processed, embeddings present or None), or a None list when stopped."""
    models = load_models(files, work, device, half)
    records: dict[str, expdir.ClipRecord] = {}
    todo = sum(1 for w in work if w.anything)
    done_work, started = 0, time.monotonic()
    left = [w for w in work if w.anything]
    # Every file is written atomically and each clip journaled once complete: a full disk
    # stops here with the sentence and the finished clips kept for the re-run.
    with on_full(exp.root, lambda: space_needed(left)):
        exp.make()
        for i, w in enumerate(work):
            if stop is not None and stop.requested:
                yield Log(f"Stopped after {i} of {len(work)} clips; run again to resume.")
                return None, done_work, None
            if w.anything:
                rec = yield from process_clip(w, exp, models)
                exp.append(rec)
                done_work += 1
                left.remove(w)
            else:
                rec = w.old
            records[w.clip.name] = rec
            elapsed = time.monotonic() - started
            eta = elapsed / done_work * (todo - done_work) if done_work else None
            yield Progress(STEP, i + 1, len(work), eta, w.clip.name)

    ordered = [records[w.clip.name] for w in work]
    n_sv = None
    if sv.wants_sv(version):  # after the 32 kHz wavs, as upstream's 2-get-sv.py
        out = yield from sv.run_sv(exp, ordered, model_path=sv_model, sv_path=request.sv_path,
                                   device=device, half=half, step=STEP, stop=stop)
        if not out.finished:
            return None, done_work, None
        n_sv = out.done + out.kept
    return ordered, done_work, n_sv


def _fanned(request, exp, work, shares, devices, files, half, version, sv_model, stale,
            stop) -> Iterator[Event]:
    """The shares on worker processes; same return as :func:`_in_process`."""
    from engine.dataset.format.worker import WorkerSpec

    threads = fanout.threads_per_worker(len(shares))
    yield Log(f"Formatting on {len(shares)} worker process{'es' if len(shares) > 1 else ''} ("
              + ", ".join(f"{devices[i]}: clips {a + 1}-{b}" for i, (a, b) in enumerate(shares))
              + f"; {threads} thread{'s' if threads > 1 else ''} each)")
    exp.make()
    specs = [WorkerSpec(i, len(shares), devices[i], threads, half, str(exp.root), work[a:b],
                        files, str(sv_model) if sv_model else None, request.sv_path,
                        sv.wants_sv(version), STEP)
             for i, (a, b) in enumerate(shares)]
    outcome = fanout.Outcome()
    already = sum(1 for w in work if not w.anything)
    try:
        yield from fanout.run_workers(specs, stop=stop, step=STEP, total=len(work),
                                      already=already, outcome=outcome,
                                      sv_due=[sum(w.clip.name in stale for w in work[a:b])
                                              for a, b in shares])
    except StepError:
        if outcome.disk_full:  # restated with what the whole run still needs
            raise DiskFull(exp.root, space_needed(
                [w for w in work if w.anything and w.clip.name not in outcome.done])) from None
        raise
    if outcome.stopped:
        yield Log(f"Stopped after {already + len(outcome.done)} of {len(work)} clips; run "
                  "again to resume.")
        return None, len(outcome.done), None
    records = exp.read_journal()
    missing = [w.clip.name for w in work if w.clip.name not in records]
    if missing:
        raise RuntimeError(f"worker journals lack {len(missing)} clips, e.g. {missing[0]}")
    ordered = [records[w.clip.name] for w in work]
    n_sv = sv.settle(exp, ordered, request.sv_path) if sv.wants_sv(version) else None
    return ordered, len(outcome.done), n_sv


def _why_skipped(rec: expdir.ClipRecord) -> str:
    return rec.audio_skip or rec.text_skip or "no text"
