"""``run_read``: a long text (a chapter, a novel) read aloud as a resumable job.

Everything goes into ``output/long/<name>/``, a folder this step owns:

* ``job.json`` (written first): the text's sha256, the request with what was chosen for it
  (seed, reference, weight files), and the pieces in order, grouped in units;
* ``text.txt``: the text read (so the job does not depend on the file staying put);
* ``pieces/NNNNN.wav`` + ``NNNNN.json``: each piece as it finishes, the wav first, its
  record (seed, takes, back-check) last, both atomic. A piece is done when its record is
  there, so a run killed between the two redoes just that piece;
* ``<name>-NNN.wav``: one file per paragraph or chapter, written once its pieces are done;
* ``<name>.wav`` + ``<name>.json``: the whole text joined, and every piece's record.

Running the same text again with the same name (by default the file's name) goes on from
the first missing piece; the joined file is built from the piece files, so a resumed run
ends with the same bytes as an uninterrupted one. Other text or settings under a taken name
read into ``<name>-2`` (never over an earlier reading)."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from engine.atomic import atomic_write_bytes, atomic_write_text
from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.settings import validate
from engine.synth.request import ReadRequest

STEP = "read"
LONG_DIR = "long"
UNIT_PAUSE_S = 0.5  # extra silence between paragraphs/chapters in the joined file
# Chapter headings: "Chapter 3", "CHAPTER IV", "# Title", "第三章", "第12回".
_HEADING = re.compile(r"^\s*(chapter\b|part\b|#+\s|第[\d一二三四五六七八九十百千零〇两]+[章回节卷])",
                      re.IGNORECASE)
# Fields that do not change what is heard: a resumed run may differ in them.
_FREE = {"project_root", "text", "text_file", "output_name", "device", "allow_download",
         "bert_dir", "hubert_dir", "asr_model_dir", "back_check", "batch_pieces", "cuda_graphs"}
# Fields whose empty value means "as chosen when the job started".
_UNSET = {"seed": -1, "ref_wav": "", "ref_text": "", "gpt_path": "", "sovits_path": ""}


@dataclass
class Unit:
    title: str
    pieces: list[str]


def paragraphs(text: str) -> list[str]:
    """Blocks separated by blank lines; a text without blank lines: one per line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    if len(blocks) == 1 and "\n" in blocks[0]:
        blocks = [line.strip() for line in blocks[0].split("\n") if line.strip()]
    return blocks


def chapters(text: str) -> list[str]:
    """Sections that start at heading lines (the text before the first is its own)."""
    out: list[list[str]] = [[]]
    for line in text.replace("\r\n", "\n").split("\n"):
        if _HEADING.match(line) and any(s.strip() for s in out[-1]):
            out.append([])
        out[-1].append(line)
    return [s for s in ("\n".join(c).strip() for c in out) if s]


def units_of(text: str, unit: str, cut_method: str, language: str) -> list[Unit]:
    """The text's units with their pieces (split_text per unit); units with nothing to
    say (only marks) are left out."""
    from engine.synth.split import split_text

    blocks = chapters(text) if unit == "chapter" else paragraphs(text)
    out = []
    for block in blocks:
        flat = " ".join(block.split()) if language == "en" else "".join(block.split())
        try:
            pieces = split_text(flat, cut_method, "en" if language == "en" else "zh")
        except StepError:
            continue
        out.append(Unit(block.split("\n")[0].strip()[:60], pieces))
    if not out:
        raise StepError("There is no text to read.", "The file holds no words to speak.")
    return out


class JobFolder:
    """The paths of one reading under output/long/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = root.name
        self.manifest = root / "job.json"
        self.text = root / "text.txt"
        self.pieces = root / "pieces"
        self.joined = root / f"{self.name}.wav"
        self.sidecar = root / f"{self.name}.json"

    def piece_wav(self, g: int) -> Path:
        return self.pieces / f"{g:05d}.wav"

    def piece_record(self, g: int) -> Path:
        return self.pieces / f"{g:05d}.json"

    def unit_wav(self, u: int) -> Path:
        return self.root / f"{self.name}-{u + 1:03d}.wav"

    def done(self, g: int) -> bool:
        return self.piece_record(g).is_file() and self.piece_wav(g).is_file()


def _compatible(stored: dict, wanted: dict) -> list[str]:
    """Fields where this run asks for something else than the stored job."""
    free = set(_FREE)
    if not wanted.get("ref_text"):
        free.add("ref_language")  # taken from the proofread list with the reference's text
    return sorted(k for k, v in wanted.items()
                  if k not in free and not (k in _UNSET and v == _UNSET[k])
                  and stored.get(k) != v)


def choose_folder(base: Path, name: str, sha: str, wanted: dict
                  ) -> Iterator[tuple[JobFolder, dict | None, list[str]]]:
    """Candidate folders in order: (folder, its manifest if it is this job, why not)."""
    for n in range(1, 10_000):
        folder = JobFolder(base / (name if n == 1 else f"{name}-{n}"))
        if not folder.root.exists() or not any(folder.root.iterdir()):
            yield folder, None, []
            return
        try:
            doc = json.loads(folder.manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # not a reading of ours: leave it alone
        differ = [] if doc.get("text_sha256") == sha else ["text"]
        differ += _compatible(doc.get("request", {}), wanted)
        if not differ:
            yield folder, doc, []
            return
        yield folder, None, differ  # taken: the caller logs why and goes on
    raise StepError(f"Too many readings named {name} in {base}.", "Pick another output name.")


def _read_text(req: ReadRequest) -> str:
    if not req.text_file:
        return req.text
    path = Path(req.text_file).expanduser()
    if not path.is_absolute():
        path = Path(req.project_root).expanduser() / path
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StepError(f"{path.name} is not UTF-8 text.",
                        "Save it as UTF-8 (most editors offer it under 'Save as').")
    except OSError as exc:
        raise StepError(f"Cannot read {path}: {exc.strerror or exc}.",
                        "Check the path of the text file.")


def join_wavs(paths: list[Path], gap_s: float = 0.0) -> bytes:
    """The 16-bit samples of ``paths`` one after another (``gap_s`` of silence between),
    as one WAV: sample-exact, whatever run wrote each part."""
    import io

    import numpy as np
    import soundfile as sf

    from engine.synth.pipeline import SR

    gap = np.zeros(int(gap_s * SR), dtype=np.int16)
    parts: list[Any] = []
    for i, p in enumerate(paths):
        if i:
            parts.append(gap)
        parts.append(sf.read(str(p), dtype="int16")[0])
    buf = io.BytesIO()
    sf.write(buf, np.concatenate(parts) if parts else gap, SR, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def write_piece(folder: JobFolder, g: int, wav: bytes) -> None:
    atomic_write_bytes(folder.piece_wav(g), wav)


def write_record(folder: JobFolder, g: int, record: dict) -> None:
    """Written after the wav: the piece counts as done from here on."""
    atomic_write_text(folder.piece_record(g), json.dumps(record, ensure_ascii=False))


def _start(req: ReadRequest, layout, folder: JobFolder, text: str, sha: str,
           units: list[Unit]) -> dict:
    """Resolve what the job reads with (seed, reference, weights) and write its manifest."""
    from engine.synth import reference, weights
    from engine.synth.step import new_seed

    ref = reference.resolve(layout, req.ref_wav, req.ref_text, req.ref_language, req.ref_free)
    resolved = dataclasses.asdict(req) | {
        "seed": req.seed if req.seed >= 0 else new_seed(), "ref_wav": ref.wav,
        "ref_text": ref.text, "ref_language": ref.language,
        "gpt_path": layout.rel(weights.pick(layout, req.gpt_path, "GPT")),
        "sovits_path": layout.rel(weights.pick(layout, req.sovits_path, "SoVITS"))}
    doc = {"text_sha256": sha, "request": resolved,
           "units": [dataclasses.asdict(u) for u in units]}
    folder.root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder.text, text)
    atomic_write_text(folder.manifest, json.dumps(doc, ensure_ascii=False, indent=1))
    return doc


def run_read(req: ReadRequest, stop: StopToken | None = None) -> Iterator[Event]:
    validate(req)
    from engine.runner import request_from_dict
    from engine.synth.outputs import check_name
    from engine.synth.weights import project_of

    layout, version = project_of(Path(req.project_root).expanduser())
    text = _read_text(req)
    if not text.strip():
        raise StepError("There is no text to read.", "Give a text file with words in it.")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    name = req.output_name.removesuffix(".wav") or (
        Path(req.text_file).stem if req.text_file else f"{layout.slug}-{sha[:8]}")
    check_name(name)
    units = units_of(text, req.unit, req.cut_method, req.language)  # before any model loads
    base = layout.output_dir / LONG_DIR
    wanted = dataclasses.asdict(req)
    for folder, doc, differ in choose_folder(base, name, sha, wanted):
        if differ:
            yield Log(f"{layout.rel(folder.root)} holds a reading with another "
                      f"{', '.join(differ)}; trying the next name.")
    if doc is None:
        doc = _start(req, layout, folder, text, sha, units)
        yield Log(f"Reading {sum(len(u.pieces) for u in units)} piece(s) in {len(units)} "
                  f"{req.unit}(s) into {layout.rel(folder.root)}/")
    # The stored request (seed, reference, weights as first chosen) wins for what is heard;
    # this run may change where it runs and the back-check.
    run_req = request_from_dict(ReadRequest, doc["request"] | {
        k: wanted[k] for k in _FREE - {"text", "text_file"} if k in wanted})
    units = [Unit(u["title"], list(u["pieces"])) for u in doc["units"]]
    flat = [(u, t) for u, unit in enumerate(units) for t in unit.pieces]
    todo = [g for g in range(len(flat)) if not folder.done(g)]
    if todo and todo[0] > 0:
        yield Log(f"Going on from piece {todo[0] + 1} of {len(flat)} "
                  f"({len(flat) - len(todo)} already read).")
    spoke = 0
    if todo:
        spoke = yield from _speak(run_req, layout, version, folder, flat, todo, stop)
    missing = [g for g in range(len(flat)) if not folder.done(g)]
    if missing:
        yield Result(f"Stopped: {len(flat) - len(missing)} of {len(flat)} pieces read into "
                     f"{layout.rel(folder.root)}/; run again to go on.",
                     {"stopped": True, "folder": layout.rel(folder.root), "spoke": spoke,
                      "done": len(flat) - len(missing), "total": len(flat)})
        return
    yield from _finish(layout, folder, units, flat, doc, spoke)


def _speak(req: ReadRequest, layout, version: str, folder: JobFolder, flat: list, todo: list,
           stop: StopToken | None):
    """Read the missing pieces in order; each unit's file is written once it is complete."""
    from engine.dataset.format.models import pick_device
    from engine.models.gpt import Sampling
    from engine.synth.pipeline import SR, SpeakOptions, prepare_reference
    from engine.synth.step import _piece_seeds, open_back_check, wav_bytes
    from engine.synth.takes import speak_one
    from engine.synth.voice import load_helpers, load_voice, needs_bert

    device = pick_device(req.device)
    bert, hubert = yield from load_helpers(
        device, bert=needs_bert(req.language, req.ref_language if req.ref_text else ""),
        hubert=bool(req.ref_text), bert_dir=req.bert_dir, hubert_dir=req.hubert_dir,
        allow_download=req.allow_download)
    voice = yield from load_voice(layout, version, layout.abs(req.gpt_path),
                                  layout.abs(req.sovits_path), device, bert, hubert,
                                  precision=req.precision)
    from engine.synth.reference import aux_paths

    prepared = prepare_reference(voice, str(layout.abs(req.ref_wav)), req.ref_text,
                                 req.ref_language, extra=aux_paths(layout, req.aux_refs),
                                 pause_s=req.pause_s)
    opts = SpeakOptions(req.cut_method, Sampling(req.top_k, req.top_p, req.temperature,
                                                 req.repetition_penalty),
                        req.seed, _piece_seeds(req.piece_seeds), req.speed, pause_s=req.pause_s)
    checker = yield from open_back_check(req, device)
    chars_left = sum(len(flat[g][1]) for g in todo)
    chars_done, started, spoke = 0, time.monotonic(), 0
    from engine.synth import batching

    batching.configure(voice, req.batch_pieces, req.cuda_graphs)
    texts = [t for _, t in flat]
    for k, g in enumerate(todo):
        if k % batching.BATCH_MAX == 0:
            yield from batching.ahead(voice, prepared, texts, todo[k:], req.language, opts)
        unit, text = flat[g]
        audio, record = yield from speak_one(voice, prepared, text, req.language, g, opts,
                                             checker, max_rerolls=req.max_rerolls,
                                             max_error=req.max_error)
        write_piece(folder, g, wav_bytes(audio, SR))
        write_record(folder, g, record | {"unit": unit})
        spoke += 1
        chars_done += len(text)
        # ETA by characters: pieces differ in length far more than characters in time.
        rate = (time.monotonic() - started) / chars_done
        yield Progress(STEP, len(flat) - len(todo) + spoke, len(flat),
                       eta_s=rate * (chars_left - chars_done),
                       message=f"piece {g + 1}/{len(flat)}: {text[:40]}",
                       metrics={"audio_s": len(audio) / SR})
        if g + 1 == len(flat) or flat[g + 1][0] != unit:
            path = _write_unit(folder, flat, unit)
            yield Artifact(layout.rel(path), kind="audio")
        if stop is not None and stop.requested and g != todo[-1]:
            yield Log(f"Stopped after piece {g + 1} of {len(flat)}; run again to go on.",
                      "warning")
            break
    return spoke


def _write_unit(folder: JobFolder, flat: list, unit: int) -> Path:
    members = [g for g, (u, _) in enumerate(flat) if u == unit]
    path = folder.unit_wav(unit)
    atomic_write_bytes(path, join_wavs([folder.piece_wav(g) for g in members]))
    return path


def _finish(layout, folder: JobFolder, units: list[Unit], flat: list, doc: dict,
            spoke: int) -> Iterator[Event]:
    """Unit files still missing (a run stopped between a unit's last piece and its file),
    then the joined file and its sidecar."""
    from engine.synth.backcheck import table_lines

    for u in range(len(units)):
        if not folder.unit_wav(u).is_file():
            _write_unit(folder, flat, u)
    atomic_write_bytes(folder.joined, join_wavs([folder.unit_wav(u) for u in range(len(units))],
                                                UNIT_PAUSE_S))
    records = [json.loads(folder.piece_record(g).read_text(encoding="utf-8"))
               for g in range(len(flat))]
    atomic_write_text(folder.sidecar, json.dumps({"request": doc["request"], "pieces": records},
                                                 ensure_ascii=False, indent=1))
    failed = [r for r in records if r.get("passed") is False]
    for line in table_lines(failed)[:21]:  # a novel has thousands: list only the failures
        yield Log(line)
    import soundfile as sf

    seconds = sf.info(str(folder.joined)).duration
    yield Artifact(layout.rel(folder.joined), kind="audio")
    checked = sum("passed" in r for r in records)
    verdict = (f" Back-check: {checked - len(failed)} of {checked} passed." if checked else "")
    yield Result(f"Read {len(flat)} piece(s) in {len(units)} file(s), {seconds / 60:.1f} min, "
                 f"into {layout.rel(folder.joined)} ({spoke} spoken this run)." + verdict,
                 {"path": layout.rel(folder.joined), "folder": layout.rel(folder.root),
                  "units": [layout.rel(folder.unit_wav(u)) for u in range(len(units))],
                  "spoke": spoke, "total": len(flat), "seconds": seconds,
                  "seed": doc["request"]["seed"]})
