"""Content hashes of a project's outputs, each file hashed once.

``record_step`` stores a hash per artefact so later steps can go stale when an input really
changed. Folders of clips and 0.6 GB checkpoints are expensive to read, so a file's digest is
kept in ``runs/.hashes.json`` keyed by its size, mtime and inode, and reused while those
match. An entry written less than ``RACY_S`` after the file's mtime is not trusted (the file
may still change within the same timestamp tick): that file is read again next time."""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from engine.atomic import atomic_write_text

CACHE_FILE = Path("runs") / ".hashes.json"
RACY_S = 2.0
_CHUNK = 1 << 20


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _signature(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino]


class HashCache:
    """Digests of files under one project root; ``save()`` writes what was learnt."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.file = Path(root) / CACHE_FILE if root else None
        self.entries: dict[str, list] = {}
        self._dirty = False
        if self.file is not None:
            try:
                data = json.loads(self.file.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    self.entries = {k: v for k, v in data.items()
                                    if isinstance(v, list) and len(v) == 5}
            except (OSError, ValueError):
                pass  # no cache yet, or a damaged one: it is only a cache

    def file_hash(self, path: Path) -> str:
        key = str(path.resolve())
        before = os.stat(path)
        sig = _signature(before)
        entry = self.entries.get(key)
        if entry and entry[:3] == sig and entry[3] - sig[1] > RACY_S * 1e9:
            return entry[4]
        hashed_at = time.time_ns()
        digest = _sha256_file(path)
        if _signature(os.stat(path)) == sig:  # unchanged while we read it
            self.entries[key] = sig + [hashed_at, digest]
            self._dirty = True
        return digest

    def path_hash(self, path: Path) -> str:
        """A file's hash; for a folder, a hash of its files' names and contents."""
        if path.is_file():
            return self.file_hash(path)
        if path.is_dir():
            h = hashlib.sha256()
            for p in sorted(q for q in path.rglob("*") if q.is_file()):
                h.update(p.relative_to(path).as_posix().encode("utf-8") + b"\0")
                h.update(self.file_hash(p).encode("ascii"))
            return h.hexdigest()
        return ""

    def save(self) -> None:
        if self.file is None or not self._dirty:
            return
        live = {k: v for k, v in self.entries.items() if os.path.exists(k)}
        try:
            atomic_write_text(self.file, json.dumps(live, separators=(",", ":")))
        except OSError:
            pass  # a cache we cannot write only costs a re-read next time
        self._dirty = False


def hash_path(path: Path | str, cache: HashCache | None = None) -> str:
    """Content hash of a file or folder (the scheme project.toml stores)."""
    return (cache or HashCache()).path_hash(Path(path))
