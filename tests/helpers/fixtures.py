"""Where the tests' data lives: tests/fixtures/, inside the repository, so a plain clone runs
the suite offline (see tests/fixtures/README.md for what each folder holds)."""
from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
UPSTREAM_V2 = FIXTURES / "upstream-v2"
TEXT = FIXTURES / "text"
MANIFESTS = FIXTURES / "manifests"

# The project's reference folder beside the checkout on its own machines; a clone has none.
OUTSIDE = FIXTURES.parents[2] / "shared"


class ReadOutsideRepo(RuntimeError):
    """Not an OSError, so no code under test can swallow it as a missing file."""


def forbid_reading_shared() -> None:
    """Make ``../shared`` unreadable for this interpreter (an audit hook on open and listing),
    so a test that still reads it fails here as it would in a plain clone."""
    import os
    import sys

    prefix = str(OUTSIDE) + os.sep

    def hook(event: str, args: tuple) -> None:
        if event not in ("open", "os.listdir", "os.scandir") or not args:
            return
        target = args[0]
        if not isinstance(target, (str, bytes, os.PathLike)):
            return  # a file descriptor
        path = os.path.abspath(os.fsdecode(target))
        if path == str(OUTSIDE) or path.startswith(prefix):
            raise ReadOutsideRepo(f"a test read {path}: a plain clone has no ../shared; copy "
                                  "the file under tests/fixtures/ (see its README)")

    sys.addaudithook(hook)
