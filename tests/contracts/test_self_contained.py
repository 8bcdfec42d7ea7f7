"""The suite and the product read nothing outside the repository: a plain clone (no ../shared
beside it) runs every test offline. Two checks: no code builds a path into ../shared, and
within the suite ../shared cannot be opened at all (tests/conftest.py), so a test that still
reads it fails on this machine too, not only in a clone."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers.fixtures import FIXTURES, OUTSIDE, ReadOutsideRepo

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("engine", "gsv_tui", "tests", "scripts", "bench")
# A string naming the folder as a path: "shared" alone (joined with /), or a "shared/" part.
_SHARED_PATH = re.compile(r"^shared$|(^|[/\\])shared[/\\]")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant):
            ids.add(id(body[0].value))
    return ids


def _shared_paths_in(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, str(path))
    skip = _docstrings(tree)
    lines = source.splitlines()
    name = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    return [f"{name}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skip and _SHARED_PATH.search(node.value)
            and not lines[node.lineno - 1].startswith("OUTSIDE = ")]  # the guard's own name


def test_no_code_builds_a_path_into_shared():
    """Comments and docstrings may cite the reference material; code may not read it."""
    files = [p for d in SCANNED for p in (REPO / d).rglob("*.py")
             if ".venv" not in p.parts and p != Path(__file__).resolve()]  # its probe names it
    assert len(files) > 100
    found = [hit for p in files for hit in _shared_paths_in(p)]
    assert found == [], "paths into ../shared (copy the data under tests/fixtures/):\n" + \
        "\n".join(found)


def test_the_scan_sees_each_way_of_naming_shared(tmp_path):
    """The scan itself: each spelling used before the fixtures moved is caught, prose is not."""
    probe = tmp_path / "probe.py"
    probe.write_text('"""Taken from ../shared/recipes/."""\n'
                     'A = ROOT.parent / "shared" / "fixtures"\n'
                     'B = "../shared/data/nltk_data"\n'
                     'C = ROOT / "shared/spec/manifests"\n'
                     'D = "a shared window"\n', encoding="utf-8")
    assert sorted(h.split(":")[1] for h in _shared_paths_in(probe)) == ["2", "3", "4"]


def test_shared_cannot_be_opened_from_the_suite():
    with pytest.raises(ReadOutsideRepo, match="tests/fixtures"):
        (OUTSIDE / "README.md").read_text()
    with pytest.raises(ReadOutsideRepo):
        list(OUTSIDE.iterdir())


def test_fixtures_are_plain_files_inside_the_repository():
    """No symlink (a clone would carry a link to a folder it does not have), no audio, and
    small: the repository stays cheap to clone."""
    files = [p for p in FIXTURES.rglob("*") if p.is_file() or p.is_symlink()]
    assert files and not [p for p in files if p.is_symlink()]
    assert not [p for p in files if p.suffix in (".wav", ".flac", ".mp3", ".ogg")]
    # ~25 MB: upstream-v2pro/ adds ~10 MB of Pro SoVITS checkpoints and goldens (xz) and
    # the speaker-model fixtures; still a cheap clone.
    assert sum(p.stat().st_size for p in files) < 25 * 2**20
    for folder in ("upstream-v2", "text", "manifests"):
        assert (FIXTURES / folder / "README.md").is_file(), f"{folder}: say where it came from"
