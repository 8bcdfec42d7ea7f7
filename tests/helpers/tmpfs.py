"""A small, real file system that fills up: tmpfs mounted by the test (we run as root),
grown or shrunk with remount, unmounted in teardown. The full-disk fault tests use it."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


class Tmpfs:
    def __init__(self, path: Path) -> None:
        self.path = path

    def resize(self, size_bytes: int) -> None:
        kib = max(64, -(-size_bytes // 1024))
        _mount(["-o", f"remount,size={kib}k", self.path])

    def used(self) -> int:
        return shutil.disk_usage(self.path).used

    def free(self) -> int:
        return shutil.disk_usage(self.path).free

    def fill(self, leave: int = 0) -> Path:
        """Write a filler file until the disk is full (or ``leave`` bytes remain)."""
        filler = self.path / "filler.bin"
        chunk = b"\0" * 4096
        with open(filler, "wb", buffering=0) as f:
            try:
                while self.free() > leave:
                    f.write(chunk)
            except OSError:
                pass
        return filler


def _mount(args: list) -> None:
    subprocess.run(["mount", *map(str, args)], check=True, capture_output=True, text=True)


def mount_tmpfs(folder: Path, size_bytes: int) -> Tmpfs:
    folder.mkdir(parents=True, exist_ok=True)
    kib = max(64, -(-size_bytes // 1024))
    try:
        _mount(["-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", folder])
    except (OSError, subprocess.CalledProcessError) as exc:
        why = getattr(exc, "stderr", "") or exc
        pytest.skip(f"cannot mount a tmpfs here ({why!s}); the full-disk test needs root")
    return Tmpfs(folder)


def unmount(fs: Tmpfs) -> None:
    subprocess.run(["umount", "-l", str(fs.path)], check=False, capture_output=True)


@pytest.fixture
def tmpfs_factory(tmp_path):
    """``make(folder, size_bytes)`` mounts a tmpfs at ``folder``; all are unmounted after."""
    mounted: list[Tmpfs] = []

    def make(folder: Path, size_bytes: int) -> Tmpfs:
        fs = mount_tmpfs(folder, size_bytes)
        mounted.append(fs)
        return fs

    yield make
    for fs in reversed(mounted):
        unmount(fs)
