"""Folders the export step owns. Export may write into a folder only when it is new, empty,
or a bundle export wrote earlier and nobody has changed since: that bundle carries a marker
file (``.gsv-export``) listing every file export wrote with its size and sha256, so a file
someone added or edited there is never deleted. Anything else is refused before a byte is
written.

The new bundle is built in a hidden sibling folder and swapped in by renames; a kill at any
moment leaves the old bundle or the new one in place, and a hidden leftover (marked, so the
next export knows it may remove it)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from engine.events import StepError

MARKER = ".gsv-export"
_KIND = "gsv-tui export bundle"
_STAGING = ".gsv-staging-"  # hidden sibling folders: "<prefix><bundle name>-XXXX"
_OLD = ".gsv-old-"


@dataclass(frozen=True)
class Owned:
    """What a bundle folder held when it was checked: relative path -> (size, mtime_ns)."""

    folder: Path
    seen: dict[str, tuple[int, int]]


def _sha256(path: Path) -> str:
    from engine.project import hash_path

    return hash_path(path)


def _entries(folder: Path) -> tuple[list[str], list[str]]:
    """(files, other entries: links, sockets, …) under ``folder``, as relative posix paths;
    the marker itself is left out. Folders only count through what they hold."""
    files, others = [], []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder).as_posix()
        if rel == MARKER:
            continue
        if p.is_symlink() or not (p.is_file() or p.is_dir()):
            others.append(rel)
        elif p.is_file():
            files.append(rel)
    return sorted(files), sorted(others)


def _read_marker(folder: Path) -> dict | None:
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("kind") != _KIND or not isinstance(doc.get("files"), dict):
        return None
    return doc


def _refuse(dest: Path, why: str) -> StepError:
    return StepError(f"Export will not write into {dest}: {why}.",
                     "Pick a new or empty folder with --dest (or move those files away); "
                     "export only replaces a bundle it wrote itself.")


def check_dest(dest: Path) -> Owned | None:
    """Whether export may write ``dest``: None when it does not exist, an :class:`Owned` to
    replace when it is empty or an unchanged earlier bundle; a StepError otherwise."""
    if dest.is_symlink():
        raise _refuse(dest, "it is a symbolic link")
    if not dest.exists():
        return None
    if not dest.is_dir():
        raise _refuse(dest, "it is a file, not a folder")
    files, others = _entries(dest)
    if others:
        raise _refuse(dest, f"it holds {others[0]}, which is not a plain file")
    doc = _read_marker(dest)
    if doc is None:
        if files or (dest / MARKER).exists():
            raise _refuse(dest, f"it holds {len(files)} file(s) export did not write "
                                f"(e.g. {files[0] if files else MARKER})")
        return Owned(dest, {})
    why = _foreign(dest, doc, files)
    if why:
        raise _refuse(dest, why)
    return Owned(dest, {rel: _stamp(dest / rel) for rel in files})


def _foreign(folder: Path, doc: dict, files: list[str]) -> str:
    """Why ``folder`` holds something its marker does not vouch for ("" when nothing)."""
    listed = doc["files"]
    for rel in files:
        entry = listed.get(rel)
        if not isinstance(entry, dict):
            return f"{rel} was added after the last export"
        p = folder / rel
        if p.stat().st_size != entry.get("size") or _sha256(p) != entry.get("sha256"):
            return f"{rel} was changed after the last export"
    return ""


def _stamp(p: Path) -> tuple[int, int]:
    st = p.stat()
    return st.st_size, st.st_mtime_ns


def _unchanged(owned: Owned, folder: Path) -> bool:
    files, others = _entries(folder)
    return not others and files == sorted(owned.seen) and all(
        _stamp(folder / rel) == owned.seen[rel] for rel in files)


def remove_leftovers(dest: Path) -> None:
    """Hidden staging/old folders an interrupted export left beside ``dest`` (only ones
    holding our marker: a folder of someone else's is never touched)."""
    parent = dest.parent
    if not parent.is_dir():
        return
    for p in parent.glob(f"{_STAGING}{dest.name}-*"):  # unique names only export knows
        if p.is_dir() and not p.is_symlink() and _read_marker(p) is not None:
            shutil.rmtree(p, ignore_errors=True)
    for p in parent.glob(f"{_OLD}{dest.name}-*"):  # a moved-aside bundle: check it first
        doc = _read_marker(p) if p.is_dir() and not p.is_symlink() else None
        if doc is not None:
            files, others = _entries(p)
            if not others and not _foreign(p, doc, files):
                shutil.rmtree(p, ignore_errors=True)


def new_staging(dest: Path) -> Path:
    """A fresh hidden folder beside ``dest`` (same filesystem, so the swap is a rename),
    marked at once so a leftover can be recognised as ours."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{_STAGING}{dest.name}-", dir=dest.parent))
    write_marker(staging)
    return staging


def write_marker(folder: Path) -> None:
    """The marker listing every file now in ``folder``; written last, when they are final."""
    from engine.atomic import atomic_write_text

    files, _ = _entries(folder)
    doc = {"kind": _KIND, "files": {rel: {"size": (folder / rel).stat().st_size,
                                          "sha256": _sha256(folder / rel)} for rel in files}}
    atomic_write_text(folder / MARKER, json.dumps(doc, indent=1, sort_keys=True))


def swap_in(staging: Path, dest: Path, owned: Owned | None) -> None:
    """Put the finished ``staging`` folder at ``dest``. An existing ``dest`` is first moved
    aside and re-checked there (nothing may have been added since :func:`check_dest`), and
    only then removed; on a surprise it is put back and the export refused."""
    if owned is None:
        if dest.exists() or dest.is_symlink():
            raise _refuse(dest, "it appeared while the bundle was being written")
        os.rename(staging, dest)
        return
    old = Path(tempfile.mkdtemp(prefix=f"{_OLD}{dest.name}-", dir=dest.parent))
    os.rmdir(old)  # only the unique name was wanted: rename needs it absent
    os.rename(dest, old)
    if not _unchanged(owned, old):
        os.rename(old, dest)
        raise _refuse(dest, "files changed in it while the bundle was being written")
    write_marker(old)  # an emptied-out folder is marked too, so a leftover is ours to remove
    os.rename(staging, dest)
    shutil.rmtree(old, ignore_errors=True)


def check_zip(path: Path, folder_name: str) -> None:
    """A zip export may replace: none yet, or one whose entries all sit under
    ``<folder_name>/`` and include its marker (what :func:`write_zip` makes)."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise StepError(f"Export will not write {path}: it is not a plain file.",
                        "Move it away or pick another --dest.")
    if not path.exists():
        return
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (OSError, zipfile.BadZipFile):
        names = []
    if f"{folder_name}/{MARKER}" not in names or any(
            not n.startswith(f"{folder_name}/") for n in names):
        raise StepError(f"Export will not replace {path}: it is not a zip export wrote.",
                        "Move it away, pick another --dest, or export with --no-zip.")


def write_zip(folder: Path) -> Path:
    out = folder.with_name(folder.name + ".zip")
    check_zip(out, folder.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    os.close(fd)
    try:
        # Weights hardly compress: store them; deflate the small text files.
        with zipfile.ZipFile(tmp, "w") as z:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    kind = (zipfile.ZIP_STORED if p.suffix in (".ckpt", ".pth", ".wav")
                            else zipfile.ZIP_DEFLATED)
                    z.write(p, f"{folder.name}/{p.relative_to(folder).as_posix()}",
                            compress_type=kind)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
