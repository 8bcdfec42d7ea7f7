"""The slice step: recordings → 32 kHz mono 16-bit clips named by their sample offsets."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from engine.atomic import atomic_write_text
from engine.audio.clipstats import histogram_lines, length_summary
from engine.audio.decode import AUDIO_EXTS, DecodeError
from engine.audio.samplefile import SampleFile
from engine.diskfull import on_full
from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.layout import Layout
from engine.settings import knob

SLICE_SR = 32000
MANIFEST = "manifest.json"
_CLIP_NAME = re.compile(r"_\d{10}_\d{10}\.wav$")
STAGE_PREFIX = ".slicing-"


@dataclass
class SliceRequest:
    project_root: str
    source: str = ""  # file or folder; empty: each imported file, its cleaned copy if any
    threshold_db: float = knob(-34.0, "RMS below this counts as silence", min=-90, max=0,
                               unit="dB", label="Silence threshold")
    min_length_ms: int = knob(4000, "Shortest clip; shorter pieces join the next", min=0,
                              max=60000, unit="ms", label="Shortest clip")
    min_interval_ms: int = knob(300, "Shortest silence that may become a cut", min=1,
                                max=10000, unit="ms", label="Shortest silence cut")
    hop_ms: int = knob(10, "Step of the RMS analysis", min=1, max=1000, unit="ms", label="RMS hop")
    max_sil_kept_ms: int = knob(500, "Most silence kept around a cut", min=1, max=10000,
                                unit="ms", label="Silence kept at cuts")
    normalize_max: float = knob(0.9, "Peak of the normalised copy mixed into each clip",
                                min=0.0, max=1.0, label="Normalised peak")
    alpha: float = knob(0.25, "Share of the peak-normalised copy in each clip", min=0.0,
                        max=1.0, label="Normalised share")
    max_clip_s: float = knob(0.0, "Longest clip (0: GPU memory in GB, as seconds)", min=0,
                             max=600, unit="s", label="Longest clip")
    short_clip_s: float = knob(1.0, "Clips shorter than this are listed as outliers", min=0,
                               max=60, unit="s", label="Outlier below")


def params_of(req: SliceRequest):
    from engine.audio.slicer import SlicerParams, check_params

    p = SlicerParams(req.threshold_db, req.min_length_ms, req.min_interval_ms, req.hop_ms,
                     req.max_sil_kept_ms)
    check_params(p)
    return p


def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTS)


def find_sources(req: SliceRequest, layout: Layout) -> list[Path]:
    if req.source:
        src = layout.abs(req.source)
        if src.is_file():
            return [src]
        if src.is_dir():
            files = _audio_files(src)
            if files:
                return files
        raise StepError(f"No audio found at {req.source}",
                        "Give a recording or a folder of recordings, or import some first.")
    raw = _audio_files(layout.raw_dir) if layout.raw_dir.is_dir() else []
    clean = {p.stem: p for p in _audio_files(layout.clean_dir)} if layout.clean_dir.is_dir() \
        else {}
    if raw:  # the cleaned copy where the denoise step made one, else the import's copy
        return [clean.get(p.stem, p) for p in raw]
    if clean:
        return sorted(clean.values())
    raise StepError("Nothing to slice: audio/raw and audio/clean hold no recordings",
                    "Run the import step first (gsv import <files>).")


def clip_name(basename: str, start: int, end: int) -> str:
    """Upstream's naming: the input's file name (extension included), then the sample
    offsets at 32 kHz, e.g. ``take.wav_0000000000_0000152640.wav``."""
    return f"{basename}_{start:010d}_{end:010d}.wav"


def cut_file(path: Path, req: SliceRequest, max_s: float, work_dir: Path
             ) -> tuple[SampleFile, list[tuple[int, int]]]:
    """Decode to 32 kHz mono on disk and return (samples, final sample ranges)."""
    import numpy as np

    from engine.audio.decode import iter_mono
    from engine.audio.slicer import FrameGrid, frame_rms
    from engine.audio.splitpoints import plan_clips

    x = SampleFile.write(work_dir / "decoded.f32", iter_mono(path, SLICE_SR))
    params = params_of(req)
    grid = FrameGrid.of(params, SLICE_SR)
    rms = frame_rms(x, grid.win, grid.hop) if x.size else np.zeros(0)
    # over-long clips are cut between sentences; leftovers under short_clip_s join a neighbour
    plan = plan_clips(x, SLICE_SR, params, int(max_s * SLICE_SR), rms=rms,
                      short=int(req.short_clip_s * SLICE_SR))
    return x, plan.bounds


def run_slice(request: SliceRequest, stop: StopToken | None = None) -> Iterator[Event]:
    params_of(request)
    layout = Layout(Path(request.project_root), "")
    sources = find_sources(request, layout)
    max_s = request.max_clip_s or _default_max_s()
    out_dir = layout.slices_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{STAGE_PREFIX}*"):  # what a killed run was still writing
        shutil.rmtree(old, ignore_errors=True)
    yield Log(f"Slicing {len(sources)} file(s); longest clip {max_s:g} s")
    t0 = time.monotonic()
    # Clips are written into a hidden stage and moved in only once all of them (and the
    # manifest) are on disk: a full disk or a failure leaves the last run's clips whole.
    # The disk-full estimate runs after the stage is gone, so "free N MB" is what is missing.
    with on_full(out_dir, lambda: _space_needed(sources)):
        stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out_dir))
        try:
            clips, skipped = yield from _cut_all(request, sources, max_s, stage, stop)
            yield Progress("slice", len(sources), len(sources))
            summary = length_summary({c["name"]: c["seconds"] for c in clips},
                                     short_s=request.short_clip_s, max_s=max_s)
            manifest = {"sample_rate": SLICE_SR, "max_clip_s": max_s, "clips": clips,
                        "skipped": skipped, "summary": summary}
            atomic_write_text(stage / MANIFEST, json.dumps(manifest, ensure_ascii=False,
                                                           indent=1))
            _commit(stage, out_dir, {c["name"] for c in clips})
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    for line in histogram_lines(summary["histogram"]):
        yield Log(line)
    for o in summary["outliers"]:
        yield Log(f"outlier {o['name']}: {o['seconds']} s, {o['why']}", level="warning")
    yield Artifact(layout.rel(out_dir), kind="folder")
    yield Artifact(layout.rel(out_dir / MANIFEST), kind="manifest")
    if stop is not None and stop.requested:
        return  # the runner reports the stop; slicing again redoes every file
    if not clips:
        raise StepError("Slicing produced no clips",
                        "Check that the recordings hold speech, or lower threshold_db.")
    dt = time.monotonic() - t0
    yield Result(f"{len(clips)} clips, {summary['total_s'] / 60:.1f} min, from "
                 f"{len(sources) - len(skipped)} file(s) in {dt:.1f} s",
                 data={"clips": len(clips), "max_clip_s": max_s, "skipped": skipped,
                       "summary": summary, "manifest": layout.rel(out_dir / MANIFEST)})


def _default_max_s() -> float:
    from engine.audio.gpu_hint import default_max_clip_s

    return default_max_clip_s()


def _cut_all(request: SliceRequest, sources: list[Path], max_s: float, stage: Path,
             stop: StopToken | None) -> Iterator[Event]:
    """Every source's clips into ``stage``; returns (clips, skipped sources)."""
    from engine.audio.slicer import peak_mix

    clips: list[dict] = []
    skipped: list[dict] = []
    for k, src in enumerate(sources):
        if stop is not None and stop.requested:
            yield Log("Stopped; run slice again to redo all files", level="warning")
            break
        yield Progress("slice", k, len(sources), message=src.name)
        work = stage / "decoded"  # decoded samples wait on the project's disk, not in memory
        work.mkdir()
        try:
            try:
                x, bounds = cut_file(src, request, max_s, work)
            except DecodeError as exc:
                skipped.append({"source": src.name, "reason": exc.reason})
                yield Log(f"{src.name}: {exc.reason}", level="warning")
                continue
            yield Progress("slice", k + 0.5, len(sources), message=f"{src.name}: writing")
            last = time.monotonic()
            for i, (start, end) in enumerate(bounds):
                if stop is not None and stop.requested:
                    break
                if time.monotonic() - last > 1.0:
                    last = time.monotonic()
                    yield Progress("slice", k + 0.5 + 0.5 * i / len(bounds), len(sources),
                                   message=f"{src.name}: clip {i}/{len(bounds)}")
                name = clip_name(src.name, start, end)
                chunk = peak_mix(x[start:end], request.normalize_max, request.alpha)
                _write_clip(stage / name, chunk)
                clips.append({"name": name, "source": src.name, "start": start, "end": end,
                              "seconds": round((end - start) / SLICE_SR, 4)})
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return clips, skipped


def _write_clip(path: Path, samples) -> None:
    """Encoded in memory (a clip is at most a few MB), then one write: a full disk is a
    plain OSError here, where libsndfile would only say "System error"."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples, SLICE_SR, subtype="PCM_16", format="WAV")
    with open(path, "wb") as f:
        f.write(buf.getbuffer())
        f.flush()
        os.fsync(f.fileno())


def _commit(stage: Path, out_dir: Path, names: set[str]) -> None:
    """The last run's clips out, the new ones in, the manifest last. Only renames and
    unlinks: nothing here needs free space."""
    for old in out_dir.iterdir():  # a re-slice replaces every clip from the last run
        if old.is_file() and _CLIP_NAME.search(old.name) and old.name not in names:
            old.unlink()
    for name in names:
        os.replace(stage / name, out_dir / name)
    os.replace(stage / MANIFEST, out_dir / MANIFEST)


def _space_needed(sources: list[Path]) -> int | None:
    """Bytes a slicing run takes: every new clip (16-bit at 32 kHz; the last run's clips
    stay until the new ones are all written) plus the largest file decoded to float32."""
    from engine.audio.decode import probe

    seconds = []
    for src in sources:
        try:
            seconds.append(probe(src).duration_s or 0.0)
        except (DecodeError, OSError):
            continue
    if not seconds:
        return None
    return int(sum(seconds) * SLICE_SR * 2 + max(seconds) * SLICE_SR * 4) + (1 << 20)
