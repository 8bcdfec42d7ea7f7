"""1Ab's speaker part for v2Pro/v2ProPlus (upstream's ``2-get-sv.py``): one
``7-sv_cn/<clip>.pt`` per clip, the ERes2NetV2 embedding of its ``5-wav32k`` file.

Each file is what upstream writes (spec upstream-v2pro §4): a ``torch.save``d bare tensor
[1, 20480], contiguous, float32 (float16 when formatting on a half-precision GPU), computed
from the 32 kHz int16 wav / 32768, resampled to 16 kHz as torchaudio does. Files are written
atomically and each finished clip is journaled (``gsv-sv.jsonl``, with the keys of its audio
and of the speaker model), so a re-run does only what is missing or changed and a killed
run resumes where it stopped.
"""
from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from engine.atomic import atomic_write_text
from engine.dataset.format import expdir
from engine.dataset.format.plan import key
from engine.diskfull import on_full
from engine.events import Event, Log, Progress, StepError, StopToken

SV_DIR = "7-sv_cn"
SV_JOURNAL = "gsv-sv.jsonl"
PRO_VERSIONS = ("v2Pro", "v2ProPlus")
SV_SPEC_KEY = "sv"  # engine.hub.PRETRAINED
_FILE_BYTES = 84_000  # one .pt: 81,920 bytes of float32 plus the zip around them


def wants_sv(version: str) -> bool:
    return version in PRO_VERSIONS


def sv_file(exp_root: Path, name: str) -> Path:
    return exp_root / SV_DIR / f"{name}.pt"


@dataclass
class SvOutcome:
    done: int  # embeddings computed this run
    kept: int  # up to date from an earlier run
    finished: bool  # False: stopped, run again to resume


def part_journal(i: int) -> str:
    """Worker ``i``'s journal when formatting is fanned out (folded in by the step)."""
    return f"gsv-sv-{i}.jsonl"


def _journals(exp_root: Path) -> list[Path]:
    parts = [p for p in exp_root.glob("gsv-sv-*.jsonl") if p.stem[7:].isdigit()]
    return [exp_root / SV_JOURNAL, *sorted(parts, key=lambda p: int(p.stem[7:]))]


def _read_journal(exp_root: Path) -> dict[str, str]:
    keys: dict[str, str] = {}
    for path in _journals(exp_root):  # the main one, then newer lines of unfinished workers
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                keys[data["name"]] = data["key"]
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a kill: that clip is simply redone
    return keys


def fold_journals(exp_root: Path) -> None:
    """Workers' journals into the main one (before this run journals anything)."""
    parts = _journals(exp_root)[1:]
    if not parts:
        return
    journal = _read_journal(exp_root)
    atomic_write_text(exp_root / SV_JOURNAL, "".join(
        json.dumps({"name": n, "key": k}, ensure_ascii=False) + "\n" for n, k in journal.items()))
    for p in parts:
        p.unlink(missing_ok=True)


def model_id(sv_path: str) -> str:
    """What the embeddings depend on besides the audio: the speaker-model file."""
    p = Path(sv_path).expanduser() if sv_path else None
    if p is not None and p.is_file():
        return f"{p.name}:{p.stat().st_size}"
    return "pretrained_eres2netv2w24s4ep4.ckpt"


def read_wav32k(path: Path):
    """``5-wav32k/<name>`` as upstream's torchaudio.load gives it: int16 / 32768, [1, N]."""
    import soundfile as sf
    import torch

    data, sr = sf.read(str(path), dtype="int16", always_2d=True)
    if sr != 32000:
        raise ValueError(f"{path.name} is {sr} Hz, not 32 kHz")
    return torch.from_numpy(data[:, 0].astype("float32") / 32768.0).unsqueeze(0)


def save_embedding(path: Path, emb) -> None:
    """The bare tensor, its storage exactly its 20480 values (as upstream's file)."""
    import torch

    from engine.atomic import atomic_write_bytes

    buf = io.BytesIO()
    torch.save(emb.detach().contiguous().clone(), buf)
    atomic_write_bytes(path, buf.getvalue())


def locate_model(sv_path: str, allow_download: bool, step: str
                 ) -> Iterator[Event]:
    """The speaker-model file (fetched if missing), before any clip is touched."""
    from engine.hub import PRETRAINED, ensure_model
    from engine.models.sv import SV_FILE

    if sv_path:
        path = Path(sv_path).expanduser()
        if not path.is_file():
            raise StepError(f"The speaker-model file {path} does not exist.",
                            f"Point sv_path at {SV_FILE}, or leave it empty for the models "
                            "folder.")
        return path
    spec = PRETRAINED[SV_SPEC_KEY]
    folder = yield from ensure_model(spec, allow_download=allow_download, step=step)
    return folder / spec.files[0]


def _wanted(exp: expdir.ExpDir, clips: list[tuple[str, str]], sv_path: str):
    """Each clip's (name, key) -- the key covers its audio and the model -- those whose
    embedding is missing or was made from other audio or another model, and the journal."""
    journal = _read_journal(exp.root)
    mid = model_id(sv_path)
    keyed = [(n, key(audio_key, mid)) for n, audio_key in clips]
    todo = [(n, k) for n, k in keyed
            if not (journal.get(n) == k and sv_file(exp.root, n).is_file())]
    return keyed, todo, journal


def stale(exp: expdir.ExpDir, clips: list[tuple[str, str]], sv_path: str) -> list[str]:
    """Names among (name, audio key) pairs that need an embedding computed."""
    return [n for n, _ in _wanted(exp, clips, sv_path)[1]]


def _clips(exp: expdir.ExpDir, records: list[expdir.ClipRecord]) -> list[tuple[str, str]]:
    return [(r.name, r.audio_key) for r in records
            if not r.audio_skip and exp.wav32k(r.name).is_file()]


def settle(exp: expdir.ExpDir, records: list[expdir.ClipRecord], sv_path: str) -> int:
    """After fanned-out workers: their journals folded and compacted; how many clips have
    an up-to-date embedding."""
    fold_journals(exp.root)
    keyed, todo, journal = _wanted(exp, _clips(exp, records), sv_path)
    _compact(exp.root, journal, keyed)
    return len(keyed) - len(todo)


def run_sv(exp: expdir.ExpDir, records: list[expdir.ClipRecord], *, model_path: Path | None,
           sv_path: str, device: str, half: bool, step: str,
           stop: StopToken | None = None, part: int | None = None) -> Iterator[Event]:
    """Embeddings for every clip whose 32 kHz wav was written (a clip whose audio was
    skipped has none, as upstream's per-line failure); returns an :class:`SvOutcome`.
    ``model_path`` (from :func:`locate_model`) may be None only when nothing is stale.
    A fanned-out worker passes its ``part``: it journals to its own file and leaves the
    clean-up and compaction to the step (others write beside it)."""
    clips = _clips(exp, records)
    if part is None:
        _remove_leftovers(exp.root / SV_DIR)
    keyed, todo, journal = _wanted(exp, clips, sv_path)
    kept = len(clips) - len(todo)
    if not todo:
        if part is None:
            _compact(exp.root, journal, keyed)
        return SvOutcome(0, kept, True)
    if model_path is None:
        raise RuntimeError("run_sv: clips need embeddings but no model was located")

    from engine.models.sv import SpeakerEncoder

    encoder = SpeakerEncoder(model_path, device, half)
    yield Log(f"Speaker embeddings (7-sv_cn): {model_path.name} ({device}"
              f"{', fp16' if encoder.dtype.itemsize == 2 else ''})")
    (exp.root / SV_DIR).mkdir(parents=True, exist_ok=True)
    started, done = time.monotonic(), 0
    left = {n for n, _ in todo}
    with on_full(exp.root, lambda: len(left) * _FILE_BYTES + (1 << 20)):
        for name, k in todo:
            if stop is not None and stop.requested:
                yield Log(f"Stopped after {done} of {len(todo)} speaker embeddings; run again "
                          "to resume.")
                return SvOutcome(done, kept, False)
            try:
                wav = read_wav32k(exp.wav32k(name))  # libsndfile errors are RuntimeErrors
                emb = encoder.embed_32k(wav)  # ValueError: shorter than one fbank frame
            except (OSError, RuntimeError, ValueError) as exc:
                # Upstream prints the line and goes on; the clip then drops out of training.
                yield Log(f"{name}: no speaker embedding ({exc}); the clip is left out of "
                          "v2Pro training. Format again after fixing it.", "warning")
                continue
            save_embedding(sv_file(exp.root, name), emb)
            own = SV_JOURNAL if part is None else part_journal(part)
            expdir.append_json_line(exp.root / own, {"name": name, "key": k})
            journal[name] = k
            left.discard(name)
            done += 1
            elapsed = time.monotonic() - started
            yield Progress(step, done, len(todo), elapsed / done * (len(todo) - done),
                           f"speaker {name}")
        if part is None:
            _compact(exp.root, journal, keyed)
    return SvOutcome(done, kept, True)


def _remove_leftovers(folder: Path) -> None:
    """Temp files of writes a kill cut short (engine.atomic names them .<name>.*.tmp);
    never a final file."""
    if folder.is_dir():
        for p in folder.glob(".*.pt.*.tmp"):
            p.unlink(missing_ok=True)


def _compact(exp_root: Path, journal: dict[str, str], clips: list[tuple[str, str]]) -> None:
    """One line per clip still in the list, only for those whose file matches its key."""
    lines = [json.dumps({"name": n, "key": k}, ensure_ascii=False) + "\n"
             for n, k in clips if journal.get(n) == k]
    path = exp_root / SV_JOURNAL
    text = "".join(lines)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write_text(path, text)
