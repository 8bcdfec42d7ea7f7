"""The import step: recordings (files or folders) → decoded WAV copies under audio/raw, and
a per-file report. Sources are only read. One bad file gives one line; the batch goes on."""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from engine.atomic import atomic_write_text
from engine.audio.decode import AUDIO_EXTS, AudioInfo, DecodeError, iter_blocks, probe
from engine.audio.report import Analyzer, FileReport, judge, total_guidance
from engine.diskfull import DiskFull, is_disk_full
from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.layout import Layout
from engine.settings import knob

REPORT = "report.json"
_UNSAFE = re.compile(r'[|/\\\x00-\x1f\x7f]+')  # '|' would break the .list dialect
_WAV_LIMIT = 0xFFFF_FF00  # RIFF sizes are 32-bit; larger copies are written as RF64
PROGRESS_EVERY_S = 60.0  # of audio, within one long file


@dataclass
class ImportRequest:
    project_root: str
    sources: list[str] = field(default_factory=list)  # files and/or folders (searched recursively)
    normalize: bool = knob(False, "Bring each file's peak into the range below",
                           label="Normalise peaks")
    peak_min_db: float = knob(-9.0, "Lowest peak after normalising", min=-40, max=0, unit="dBFS")
    peak_max_db: float = knob(-6.0, "Highest peak after normalising", min=-40, max=0, unit="dBFS")


def expand_sources(sources: list[str]) -> tuple[list[Path], list[FileReport]]:
    """Files named directly are always tried; inside folders only audio/video extensions."""
    files: list[Path] = []
    missing: list[FileReport] = []
    for s in sources:
        p = Path(s).expanduser()
        if p.is_dir():
            files += sorted(f for f in p.rglob("*")
                            if f.is_file() and f.suffix.lower() in AUDIO_EXTS)
        elif p.is_file():
            files.append(p)
        else:
            missing.append(FileReport(source=str(p), status="error", reason="not found"))
    seen: set[Path] = set()
    unique = []
    for f in files:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(f)
    return unique, missing


def safe_stem(stem: str) -> str:
    """Keep spaces and CJK (users recognise their names); drop what breaks paths or .list."""
    cleaned = _UNSAFE.sub("_", stem).strip().strip(".")
    return cleaned or "audio"


def load_report(raw_dir: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((raw_dir / REPORT).read_text(encoding="utf-8"))
        return {f["name"]: f for f in data.get("files", []) if f.get("name")}
    except (OSError, ValueError, TypeError, KeyError):
        return {}


def _pick_name(stem: str, taken: dict[str, str], source: str) -> str:
    base = safe_stem(stem)
    name, k = f"{base}.wav", 1
    while name in taken and taken[name] != source:
        k += 1
        name = f"{base}_{k}.wav"
    return name


def _subtype(info: AudioInfo) -> str:
    return "PCM_16" if info.bits is not None and info.bits <= 16 else "PCM_24"


def _copy(src: Path, tmp: Path, info: AudioInfo, analyzer: Analyzer,
          stop: StopToken | None) -> Iterator[float]:
    """Decode once: analyse and write the copy (to ``tmp``) together; yields seconds done
    now and then. Through wavout, so a full disk is an OSError, not libsndfile's "System
    error"."""
    from engine.audio.wavout import open_wav

    channels = _channels(info)
    big = (info.frames or 0) * channels * 3 > _WAV_LIMIT
    next_report = PROGRESS_EVERY_S
    with open_wav(tmp, info.sample_rate, channels, _subtype(info),
                  format="RF64" if big else "WAV") as out:
        for block in iter_blocks(src, info):
            analyzer.add(block)
            out.write(block)
            done = analyzer.frames / info.sample_rate
            if done >= next_report:
                next_report += PROGRESS_EVERY_S
                yield done
                if stop is not None and stop.requested:
                    raise DecodeError("stopped")


def _channels(info: AudioInfo) -> int:
    return 1 if info.channels == 1 else (info.channels if info.backend == "soundfile" else 2)


def copy_bytes(info: AudioInfo, size: int) -> int:
    """What a file's decoded copy takes on disk (a container without a length: a guess of
    ten times its size, about what compressed speech expands to)."""
    if info.frames is None:
        return size * 10
    return info.frames * _channels(info) * (2 if _subtype(info) == "PCM_16" else 3) + 4096


def _apply_gain(path: Path, gain_db: float) -> None:
    """Rescale a written copy in place (through a temp file): the second, cheap WAV pass."""
    import soundfile as sf

    from engine.audio.wavout import open_wav

    factor = 10 ** (gain_db / 20)
    tmp = path.with_name(f".{path.name}.gain")
    try:
        with sf.SoundFile(str(path)) as f_in, open_wav(
                tmp, f_in.samplerate, f_in.channels, f_in.subtype, format=f_in.format) as f_out:
            for block in f_in.blocks(1 << 16, dtype="float32", always_2d=True):
                f_out.write(block * factor)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def import_one(src: Path, raw_dir: Path, taken: dict[str, str], req: ImportRequest,
               stop: StopToken | None) -> Iterator[float | FileReport]:
    """Yields the fraction decoded now and then, and finally the file's report. The copy is
    decoded (and normalised) in a hidden temp file and only renamed into place once final:
    a failure, a full disk or a stop leaves the previous copy, or none, never half of one."""
    from engine.audio.loudness import peak_range_gain_db

    st = src.stat()
    rep = FileReport(source=str(src.resolve()), size=st.st_size, mtime_ns=st.st_mtime_ns)
    try:
        info = probe(src)
    except DecodeError as exc:
        rep.status, rep.reason = "error", exc.reason
        yield rep
        return
    rep.sample_rate, rep.channels, rep.codec = info.sample_rate, info.channels, info.codec
    name = _pick_name(src.stem, taken, rep.source)
    dest = raw_dir / name
    tmp = dest.with_name(f".{dest.name}.part")
    analyzer = Analyzer(info.sample_rate, _channels(info))
    try:
        try:
            for seconds in _copy(src, tmp, info, analyzer, stop):
                yield min(0.99, seconds / (info.duration_s or seconds * 2))
        except DecodeError as exc:
            rep.status, rep.reason = "error", exc.reason
            yield rep
            return
        analyzer.fill(rep)
        judge(rep)
        if rep.status in ("error", "skipped"):
            dest.unlink(missing_ok=True)  # a re-import found it silent: its copy goes
            yield rep
            return
        if req.normalize:
            rep.gain_db = round(peak_range_gain_db(rep.peak_dbfs, req.peak_min_db,
                                                   req.peak_max_db), 2)
            if rep.gain_db:
                _apply_gain(tmp, rep.gain_db)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    rep.name = name
    taken[name] = rep.source
    yield rep


def _remove_leftovers(raw_dir: Path) -> None:
    """Temp copies a killed run left behind (hidden names only we make)."""
    for p in raw_dir.glob(".*.wav.*"):
        if p.is_file() and p.suffix in (".part", ".gain"):
            p.unlink(missing_ok=True)


def _still_needed(files: list[Path]) -> int:
    """Bytes the decoded copies of ``files`` take, plus room for the report and the
    project file (for the disk-full sentence)."""
    total = 1 << 20
    for f in files:
        try:
            total += copy_bytes(probe(f), f.stat().st_size)
        except (DecodeError, OSError):
            continue
    return total


def run_import(request: ImportRequest, stop: StopToken | None = None) -> Iterator[Event]:
    if request.peak_min_db > request.peak_max_db:
        raise StepError(f"peak_min_db ({request.peak_min_db}) is above peak_max_db "
                        f"({request.peak_max_db})", "Swap them: e.g. −9 and −6 dBFS.")
    if not request.sources:
        raise StepError("No recordings given", "Name files or folders to import.")
    layout = Layout(Path(request.project_root), "")
    raw_dir = layout.raw_dir
    raw_dir.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(raw_dir)
    files, reports = expand_sources(request.sources)
    previous = load_report(raw_dir)
    taken = {name: entry.get("source", "") for name, entry in previous.items()}
    by_source = {entry.get("source"): entry for entry in previous.values()}
    t0 = time.monotonic()
    yield Log(f"Importing {len(files)} file(s) into {layout.rel(raw_dir)}")
    full: OSError | None = None  # a full disk stops the batch; what is done is kept
    for k, src in enumerate(files):
        if stop is not None and stop.requested:
            yield Log("Stopped; files imported so far are kept", level="warning")
            break
        yield Progress("import", k, len(files), message=src.name)
        if src.resolve().is_relative_to(layout.root.resolve() / "audio"):
            reports.append(FileReport(source=str(src.resolve()), status="error",
                                      reason="already inside this project's audio folder"))
            yield Log(f"{src.name}: already inside this project's audio folder", level="warning")
            continue
        old = by_source.get(str(src.resolve()))
        st = src.stat()
        if old and old.get("size") == st.st_size and old.get("mtime_ns") == st.st_mtime_ns \
                and (raw_dir / old["name"]).is_file():
            yield Log(f"{src.name}: already imported as {old['name']}")
            continue
        rep = None
        try:
            for item in import_one(src, raw_dir, taken, request, stop):
                if isinstance(item, FileReport):
                    rep = item
                else:
                    yield Progress("import", k + item, len(files), message=src.name)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            full, left = exc, files[k:]
            break
        assert rep is not None
        reports.append(rep)
        line = rep.reason or "; ".join(rep.warnings) or f"{rep.duration_s:.1f} s"
        level = {"error": "error", "skipped": "warning", "warning": "warning"}.get(rep.status,
                                                                                   "info")
        yield Log(f"{src.name}: {rep.status}: {line}", level=level)
    yield Progress("import", len(files), len(files))
    merged = dict(previous)
    for rep in reports:
        if rep.name:
            merged[rep.name] = rep.to_dict()
        elif rep.status == "skipped":  # a re-import found it silent: its copy is gone
            merged = {n: e for n, e in merged.items() if e.get("source") != rep.source}
    failures = [r.to_dict() for r in reports if not r.name]
    total_s = sum(float(e.get("duration_s", 0)) for e in merged.values())
    guidance = total_guidance(total_s)
    doc = {"files": sorted(merged.values(), key=lambda e: e["name"]),
           "not_imported": failures, "total_s": round(total_s, 3), "guidance": guidance}
    try:
        atomic_write_text(raw_dir / REPORT, json.dumps(doc, ensure_ascii=False, indent=1))
    except OSError as exc:
        if not (full and is_disk_full(exc)):
            raise
        # no room even for the report: the old one stays; a re-run re-decodes those files
    if full is not None:
        raise DiskFull(raw_dir, _still_needed(left)) from full
    if guidance:
        yield Log(guidance, level="warning")
    yield Artifact(layout.rel(raw_dir), kind="folder")
    yield Artifact(layout.rel(raw_dir / REPORT), kind="report")
    if stop is not None and stop.requested:
        return  # the runner reports the stop; a re-run skips what was imported
    imported = [r for r in reports if r.name]
    if not merged:
        raise StepError("No recording could be imported",
                        "; ".join(f"{Path(r.source).name}: {r.reason}" for r in reports)[:300]
                        or "Check the file names and formats.")
    yield Result(f"{len(imported)} imported, {len(failures)} not imported; "
                 f"{total_s / 60:.1f} min in the project ({time.monotonic() - t0:.1f} s)",
                 data={"files": [r.to_dict() for r in reports], "total_s": round(total_s, 3),
                       "guidance": guidance, "report": layout.rel(raw_dir / REPORT)})

