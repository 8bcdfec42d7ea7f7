"""The proofread step's status, recorded one way for ``gsv proofread`` and the wizard's pane.

The editor saves every edit at once, so the step "runs" whenever an editor closes: ``done``
when this session changed the list (its hash is the artefact, so later steps go stale) or when
every clip is reviewed; otherwise ``pending`` with the count, unless it was already done or
stale (looking without changing anything says nothing new).
"""
from __future__ import annotations

from pathlib import Path

from engine.dataset.proofread.session import ProofSession
from engine.layout import PROJECT_FILE

STEP = "proofread"


def project_of(session: ProofSession) -> Path | None:
    """The project folder whose transcript this session edits; None for a bare .list."""
    root = session.paths.audio_base
    lst = session.paths.list_file
    if (root / PROJECT_FILE).is_file() and lst.parent.resolve() == (root / "asr").resolve():
        return root
    return None


def summary(session: ProofSession) -> str:
    reviewed, total, secs = session.stats()
    return f"{reviewed}/{total} clips reviewed, {secs / 60:.1f} min kept"


def record_session(session: ProofSession) -> str | None:
    """Record the step for a closed session; returns the status written (None: not a
    project). May raise engine.project.ProjectError (a sentence)."""
    from engine.project import hash_path, load_project, record_step

    root = project_of(session)
    if root is None:
        return None
    reviewed, total, _ = session.stats()
    lst = session.paths.list_file
    msg = summary(session)
    if hash_path(lst) != session.opened_sha or (total and reviewed == total):
        record_step(root, STEP, "done", message=msg, artifacts=[(str(lst), "list")])
        return "done"
    status = load_project(root).step(STEP).status
    keep = status if status in ("done", "stale") else "pending"
    record_step(root, STEP, keep, message=msg)
    return keep
