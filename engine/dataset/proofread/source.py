"""Where a proofreading session's files are: a project folder or any bare upstream ``.list``."""
from __future__ import annotations

import tomllib
from pathlib import Path

from engine.layout import PROJECT_FILE, Layout
from engine.dataset.proofread.session import Paths, ProofSession


class SourceError(ValueError):
    """The path is neither a project with a transcript nor a ``.list`` file."""


def _project_slug(root: Path) -> str | None:
    try:
        slug = tomllib.loads((root / PROJECT_FILE).read_text(encoding="utf-8")).get("slug")
    except (OSError, ValueError):
        return None
    return slug if isinstance(slug, str) and slug else None


def paths_for(target: Path | str) -> Paths:
    target = Path(target).expanduser()
    if target.is_dir():
        slug = _project_slug(target)
        if slug is None:
            lists = sorted((target / "asr").glob("*.list"))
            if len(lists) != 1:
                raise SourceError(f"{target} is not a gsv project (no {PROJECT_FILE}) and has "
                                  "no single asr/*.list")
            slug = lists[0].stem
        lay = Layout(target, slug)
        if not lay.list_file.exists():
            raise SourceError(f"{lay.list_file} does not exist yet: run the transcribe step "
                              "(gsv asr) first")
        return Paths(lay.list_file, lay.proofread_journal, lay.edits_dir, target,
                     lay.asr_records)
    if not target.is_file():
        raise SourceError(f"{target} does not exist")
    # A bare list: the journal and new audio go next to it, never inside someone's audio folder
    # without a name that says what they are.
    d = target.parent
    records = d / "records.jsonl"
    return Paths(target, d / f"{target.name}.journal.jsonl", d / f"{target.stem}_edits",
                 Path.cwd(), records if records.exists() else None)


def open_session(target: Path | str) -> ProofSession:
    return ProofSession(paths_for(target))
