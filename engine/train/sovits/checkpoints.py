"""SoVITS training checkpoints you can always go back to.

A save writes ``logs/<slug>/logs_s2_<ver>/D_<step>.pth`` then ``G_<step>.pth`` (upstream's
layout ``{model, iteration (= finished epochs), optimizer, learning_rate}``, so upstream can
resume from them, plus a ``gsv`` block: format, version, model config, global step, epoch in
progress, batches done in it, grad-scaler state, the request's settings and a save id), and
then, LAST, ``checkpoints.json``: the complete pairs, newest first, each with both file
names, their sizes and the save id both files carry. That manifest is the commit point: a
kill between any two writes leaves it naming the previous pair, and resume reads only pairs
it names. Before the pair, the manifest lists the pair as pending, so the next start removes
what an interrupted save left (with the ``.tmp`` files of half-written ones).

The previous pair is never touched while a new one is written; with ``save_latest_only`` the
one before it is removed first, so two pairs stay (the newest and one to fall back to when
the newest cannot be read). An unreadable pair is renamed ``*.pth.unreadable``, never deleted.
"""
from __future__ import annotations

import json
import os
import re
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from engine.atomic import atomic_write_text, fsync_dir
from engine.diskfull import on_full
from engine.events import Log, StepError

if TYPE_CHECKING:  # torch loads only when a checkpoint is read or written (plans read the manifest)
    import torch

FORMAT = "gsv-sovits-train/1"
MANIFEST = "checkpoints.json"
MANIFEST_FORMAT = "gsv-sovits-checkpoints/1"
_PAIR_FILE = re.compile(r"^[GD]_(\d+)\.pth$")
# mkstemp names of our writes: ".G_8.pth.k2j3.tmp", ".checkpoints.json.x1.tmp"
_TEMP = re.compile(r"^\.(?:[GD]_\d+\.pth|" + re.escape(MANIFEST) + r")\..+\.tmp$")


@dataclass
class TrainState:
    epoch: int = 1  # epoch in progress (1-based)
    batch_in_epoch: int = 0  # batches of that epoch already trained
    step: int = 0  # global steps (batches) so far


@dataclass
class Entry:
    """One complete G/D pair as the manifest records it."""

    step: int
    g: str
    d: str
    save_id: str = ""  # also in both files' gsv block: proves they come from one save
    g_bytes: int = 0  # 0: not known (a pair found without a manifest)
    d_bytes: int = 0
    # Where training stands in the pair (as in its gsv block), so a resume point can be
    # shown without loading the files: the epoch in progress and batches done in it.
    epoch: int = 0  # 0: not known (manifests written before this field)
    batch_in_epoch: int = 0


@dataclass
class Manifest:
    pairs: list[Entry] = field(default_factory=list)  # complete pairs, newest first
    pending: list[str] = field(default_factory=list)  # files of a save not yet complete


@dataclass
class Resumed:
    entry: Entry
    g: dict
    d: dict


class Unreadable(Exception):
    """Why one checkpoint pair cannot be used (a sentence)."""


def ckpt_dir(exp_dir: Path, version: str) -> Path:
    return exp_dir / f"logs_s2_{version}"


def read_manifest(folder: Path) -> Manifest | None:
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != MANIFEST_FORMAT:
            return None
        return Manifest([Entry(**e) for e in data.get("pairs", [])],
                        [str(n) for n in data.get("pending", [])])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, AttributeError):
        return None  # written atomically, so only a hand edit gets here: scan the folder


def write_manifest(folder: Path, m: Manifest) -> None:
    data = {"format": MANIFEST_FORMAT, "pairs": [asdict(e) for e in m.pairs],
            "pending": m.pending}
    atomic_write_text(folder / MANIFEST, json.dumps(data, indent=1) + "\n")


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except FileNotFoundError:
        return -1


def remove_leftovers(folder: Path) -> list[str]:
    """Delete what killed saves left: ``.tmp`` files of ours and the files of a pending
    (never completed) pair. Returns one line per removed file. Only one run may use the
    folder at a time (the train step's lock), so nothing here is still being written."""
    if not folder.is_dir():
        return []
    m = read_manifest(folder)
    kept = {n for e in (m.pairs if m else []) for n in (e.g, e.d)}
    doomed = [p for p in folder.iterdir() if _TEMP.match(p.name)]
    if m:
        doomed += [folder / n for n in m.pending if n not in kept and _PAIR_FILE.match(n)]
    lines = []
    for p in doomed:
        size = _size(p)
        if size < 0:
            continue
        p.unlink(missing_ok=True)
        lines.append(f"removed {p.name} ({size / 2**20:.1f} MB), left by an interrupted save")
    if m and m.pending:
        write_manifest(folder, Manifest(m.pairs, []))
    return lines


def _digits(p: Path) -> int:
    return int("".join(re.findall(r"\d", p.name)) or 0)


def candidates(folder: Path) -> list[Entry]:
    """Pairs to resume from, newest first: the manifest's, or (a folder from before the
    manifest, or from upstream) every G_n/D_n pair found, by n."""
    m = read_manifest(folder)
    if m is not None:
        return list(m.pairs)
    found = []
    for g in sorted(folder.glob("G_*.pth"), key=_digits, reverse=True):
        d = g.with_name("D_" + g.name[2:])
        if d.exists():
            found.append(Entry(_digits(g), g.name, d.name))
    return found


def _load(p: Path, expect_bytes: int) -> dict:
    size = _size(p)
    if size < 0:
        raise Unreadable(f"{p.name} is missing")
    if expect_bytes and size != expect_bytes:
        raise Unreadable(f"{p.name} has {size} of the {expect_bytes} bytes it was saved with")
    import torch

    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 -- truncated, corrupt or foreign: all unusable
        raise Unreadable(f"{p.name} cannot be read ({type(exc).__name__})") from None
    if not isinstance(obj, dict) or "model" not in obj:
        raise Unreadable(f"{p.name} is not a SoVITS training checkpoint")
    return obj


def _save_id(obj: dict) -> str:
    gsv = obj.get("gsv")
    return str(gsv.get("save_id", "")) if isinstance(gsv, dict) else ""


def load_entry(folder: Path, e: Entry) -> Resumed:
    g = _load(folder / e.g, e.g_bytes)
    d = _load(folder / e.d, e.d_bytes)
    if e.save_id and not (_save_id(g) == _save_id(d) == e.save_id):
        raise Unreadable(f"{e.g} and {e.d} do not come from the same save")
    return Resumed(e, g, d)


def _set_aside(folder: Path, e: Entry) -> list[str]:
    """Rename an unusable pair out of the way (upstream would resume from it) but keep it."""
    moved = []
    for name in (e.g, e.d):
        p = folder / name
        if p.exists():
            os.replace(p, p.with_name(p.name + ".unreadable"))
            moved.append(p.name + ".unreadable")
    return moved


def state_from(g: dict, steps_per_epoch: int) -> TrainState:
    gsv = g.get("gsv")
    if isinstance(gsv, dict) and gsv.get("format") == FORMAT:
        return TrainState(int(gsv["epoch"]), int(gsv["batch_in_epoch"]), int(gsv["step"]))
    done = int(g.get("iteration", 0))  # upstream's: finished epochs
    return TrainState(done + 1, 0, done * steps_per_epoch)


def check_compatible(g: dict, version: str, model_config: dict[str, Any], name: str) -> None:
    gsv = g.get("gsv") if isinstance(g.get("gsv"), dict) else {}
    theirs = gsv.get("version")
    if theirs and theirs != version:
        raise StepError(f"The checkpoint {name} was trained as SoVITS {theirs}, not {version}.",
                        "Use another experiment name, or move its logs_s2 folder aside to start over.")
    cfg = gsv.get("model_config")
    if cfg is not None and cfg != model_config:
        diff = sorted(k for k in set(cfg) | set(model_config) if cfg.get(k) != model_config.get(k))
        raise StepError(f"The checkpoint {name} has a different model shape ({', '.join(diff)}).",
                        "Use another experiment name, or move its logs_s2 folder aside to start over.")


class _CountingWriter:
    """File wrapper for torch.save: counts bytes and keeps the OSError a write raised (torch
    reports it as a RuntimeError of its own, so ENOSPC would otherwise be lost)."""

    def __init__(self, f) -> None:
        self.f, self.written, self.error = f, 0, None

    def write(self, b) -> int:
        try:
            n = self.f.write(b)
        except OSError as exc:
            self.error = exc
            raise
        self.written += n
        return n

    def flush(self) -> None:
        self.f.flush()


def _tensor_bytes(obj: Any) -> int:
    import torch

    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(_tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_tensor_bytes(v) for v in obj)
    return 0


def _write_pth(obj: Any, path: Path) -> int:
    """Stream ``obj`` to ``path`` through a temp file, fsync, rename. Returns the size."""
    import tempfile

    import torch

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            w = _CountingWriter(f)
            try:
                torch.save(obj, w)
            except RuntimeError:
                if w.error is not None:
                    raise w.error from None
                raise
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return _size(path)


class Checkpoints:
    """The checkpoint folder of one SoVITS run: resume, save, and what is kept."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.kept: list[Entry] = []  # complete pairs, newest first (kept[0]: the current one)

    def start(self) -> Iterator[Log]:
        for line in remove_leftovers(self.folder):
            yield Log(line)

    def resume(self, rel: Callable[[Path], str] = str) -> Iterator[Log]:
        """Generator: logs each unusable pair, returns the newest readable pair (or None
        when there is none at all); StepError when pairs exist but none can be read."""
        if not self.folder.is_dir():
            return None
        pairs = candidates(self.folder)
        for i, e in enumerate(pairs):
            try:
                got = load_entry(self.folder, e)
            except Unreadable as why:
                moved = _set_aside(self.folder, e)
                nxt = f"trying {pairs[i + 1].g}" if i + 1 < len(pairs) else "no other checkpoint"
                yield Log(f"checkpoint {rel(self.folder / e.g)} (step {e.step}) is unusable: "
                          f"{why}; {nxt}" + (f"; kept as {', '.join(moved)}" if moved else ""),
                          "warning")
                continue
            if not e.g_bytes:  # found without a manifest: record what it is now
                e.g_bytes, e.d_bytes = _size(self.folder / e.g), _size(self.folder / e.d)
                e.save_id = _save_id(got.g) if _save_id(got.g) == _save_id(got.d) else ""
            self.kept = [e] + [x for x in pairs[i + 1:] if x.g_bytes]
            if i and read_manifest(self.folder) is not None:  # warn once, not at every start
                write_manifest(self.folder, Manifest(self.kept, []))
            if i:
                yield Log(f"resumed from the previous checkpoint {rel(self.folder / e.g)} "
                          f"(step {e.step}) because the newer one could not be read", "warning")
            return got
        if pairs:
            raise StepError(f"None of the SoVITS training checkpoints in {rel(self.folder)} can be "
                            "read (each was set aside as *.unreadable).",
                            f"Move {rel(self.folder)} aside to start this training afresh from the "
                            "pretrained model.")
        return None

    def _intact(self, e: Entry) -> bool:
        return (_size(self.folder / e.g) == e.g_bytes > 0
                and _size(self.folder / e.d) == e.d_bytes > 0)

    def save(self, net_g: torch.nn.Module, net_d: torch.nn.Module,
             optim_g: torch.optim.Optimizer, optim_d: torch.optim.Optimizer,
             scaler_state: dict, state: TrainState, meta: dict[str, Any],
             latest_only: bool) -> Path:
        """Write D, then G, then the manifest naming them. On any failure (a full disk
        included) the new pair's files are removed and the manifest still names the
        previous pair. Returns the G path."""
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        e = Entry(state.step, f"G_{state.step}.pth", f"D_{state.step}.pth", uuid.uuid4().hex,
                  epoch=state.epoch, batch_in_epoch=state.batch_in_epoch)
        keep = [x for x in self.kept if x.g != e.g and x.d != e.d]
        drop = []
        if latest_only and keep and self._intact(keep[0]):
            drop, keep = keep[1:], keep[:1]
        gsv = dict(meta, format=FORMAT, step=state.step, epoch=state.epoch,
                   batch_in_epoch=state.batch_in_epoch, scaler=scaler_state, save_id=e.save_id)
        lr = optim_g.param_groups[0]["lr"]
        objs = {name: OrderedDict(model=net.state_dict(), iteration=state.epoch - 1,
                                  optimizer=opt.state_dict(), learning_rate=lr, gsv=gsv)
                for name, net, opt in ((e.d, net_d, optim_d), (e.g, net_g, optim_g))}

        def needed() -> int:  # the whole pair is written again on the next try
            return int(sum(_tensor_bytes(o) for o in objs.values()) * 1.01) + (1 << 16)

        with on_full(folder, needed):
            write_manifest(folder, Manifest(keep, [e.d, e.g]))
            for old in drop:  # the pair before the previous one: room for the new pair
                for name in (old.g, old.d):
                    (folder / name).unlink(missing_ok=True)
            try:
                e.d_bytes = _write_pth(objs[e.d], folder / e.d)
                e.g_bytes = _write_pth(objs[e.g], folder / e.g)
                fsync_dir(folder)
                write_manifest(folder, Manifest([e] + keep, []))
            except BaseException:
                for name in (e.d, e.g):
                    (folder / name).unlink(missing_ok=True)
                try:
                    write_manifest(folder, Manifest(keep, []))
                except OSError:
                    pass  # the pending list still names the files; the next start clears them
                raise
        self.kept = [e] + keep
        return folder / e.g
