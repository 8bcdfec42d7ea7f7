"""The format step (upstream's "1A"): a proofread ``.list`` -> ``logs/<slug>/`` exactly as
upstream's three preparation scripts write it, so its trainers (and ours) read it as is.

Per clip: text -> phones (engine.text), BERT features for Chinese lines, the 32 kHz wav and
HuBERT features, then semantic codes from the SoVITS quantizer. Every output file is written
atomically and every finished clip is journaled, so a re-run only does what is missing or
changed, and a killed run resumes where it stopped.
"""
from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Iterator

from engine.audio.decode import DecodeError
from engine.dataset.format import expdir, sv
from engine.dataset.format.audio import ClipTooLoud, prepare, write_wav32k
from engine.dataset.format.models import (BERT_SPEC, HUBERT_SPEC, SOVITS_BASES, BertFeatures,
                                          HubertFeatures, SemanticExtractor, SovitsSemantic,
                                          pick_device, weights_spec)
from engine.dataset.format.plan import Clip, audio_stamp, key, read_clips
from engine.dataset.format.request import FormatRequest
from engine.diskfull import on_full
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


def _save_tensor(path: Path, tensor) -> None:
    import torch

    from engine.atomic import atomic_write_bytes

    buf = io.BytesIO()
    torch.save(tensor, buf)
    atomic_write_bytes(path, buf.getvalue())


class _Work:
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
    journal = exp.read_journal()

    from engine.hub import ensure_model

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
        work.append(_Work(c, journal.get(c.name), exp, text_version, text_key, audio_key,
                          key(audio_key, sovits_id)))

    # Everything the remaining work needs is located (or fetched) before any clip is touched.
    device = pick_device(request.device)
    half = request.half and device == "cuda"
    bert = hubert = semantic = None
    if any(w.needs_bert for w in work):
        folder = yield from ensure_model(weights_spec(BERT_SPEC), request.bert_dir or None,
                                         allow_download=request.allow_download, step=STEP)
        yield Log(f"BERT: {folder} ({device}{', fp16' if half else ''})")
        bert = BertFeatures(folder, device, half)
    if any(w.audio for w in work):
        folder = yield from ensure_model(weights_spec(HUBERT_SPEC), request.hubert_dir or None,
                                         allow_download=request.allow_download, step=STEP)
        yield Log(f"HuBERT: {folder}")
        hubert = HubertFeatures(folder, device, half)
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
        semantic = SovitsSemantic(sovits, device, version)
    sv_model = None  # v2Pro/v2ProPlus add 1Ab's speaker part: 7-sv_cn/<clip>.pt
    if sv.wants_sv(version) and sv.stale(exp, [(w.clip.name, w.audio_key) for w in work],
                                         request.sv_path):
        sv_model = yield from sv.locate_model(request.sv_path, request.allow_download, STEP)

    records: dict[str, expdir.ClipRecord] = {}
    todo = sum(1 for w in work if w.anything)
    done_work, started = 0, time.monotonic()
    left = [w for w in work if w.anything]
    # Every file is written atomically and each clip journaled once complete: a full disk
    # stops here with the sentence and the finished clips kept for the re-run.
    with on_full(exp.root, lambda: _space_needed(left)):
        exp.make()
        for i, w in enumerate(work):
            if stop is not None and stop.requested:
                yield Log(f"Stopped after {i} of {len(work)} clips; run again to resume.")
                return
            if w.anything:
                rec = yield from _process(w, exp, bert, hubert, semantic)
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
            return
        n_sv = out.done + out.kept
    with on_full(exp.root, lambda: _space_needed(left)):
        n_text, n_sem = exp.write_outputs(ordered)
        exp.compact(ordered)
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
                  "exp_dir": layout.rel(exp.root), "version": version}
                 | ({"sv": n_sv} if n_sv is not None else {}))


def _why_skipped(rec: expdir.ClipRecord) -> str:
    return rec.audio_skip or rec.text_skip or "no text"


# Bytes one second of clip adds to logs/<slug>/: the 32 kHz int16 wav, HuBERT's 768 floats
# at 50 frames/s, and room for a Chinese line's BERT features.
_BYTES_PER_S = 32000 * 2 + 50 * 768 * 4 + 16384


def _space_needed(left: list[_Work]) -> int:
    """What the clips still to do take on disk (their wav size gives their length)."""
    seconds = 0.0
    for w in left:
        try:
            seconds += max(w.clip.wav.stat().st_size - 44, 0) / (32000 * 2)
        except OSError:
            continue
    return int(seconds * _BYTES_PER_S) + (1 << 20)


def _process(w: _Work, exp: expdir.ExpDir, bert: BertFeatures | None,
             hubert: HubertFeatures | None, semantic: SemanticExtractor | None
             ) -> Iterator[Event]:
    c, old = w.clip, w.old
    rec = expdir.ClipRecord(c.name, w.text_key, w.audio_key, w.sem_key)
    if w.text:
        rec.text_row, rec.text_skip = yield from _text(c, exp, bert, w.version)
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
        ssl = hubert(audio.hubert_input_16k)
        write_wav32k(exp.wav32k(c.name), audio.wav32k_int16)
        _save_tensor(exp.hubert(c.name), ssl)
    elif old.audio_skip:
        rec.audio_skip = old.audio_skip
        return rec
    if w.semantic:
        import torch

        if ssl is None:
            ssl = torch.load(exp.hubert(c.name), map_location="cpu", weights_only=True)
        rec.semantic = " ".join(map(str, semantic.extract(ssl)))
    else:
        rec.semantic = old.semantic
    return rec


def _text(c: Clip, exp: expdir.ExpDir, bert: BertFeatures | None, version: str
          ) -> Iterator[Event]:
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
        _save_tensor(exp.bert(c.name), feats)
    return expdir.text_row(c.name, cleaned.phones, cleaned.word2ph, cleaned.norm_text), ""
