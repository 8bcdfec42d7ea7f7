"""``gsv proofread <project-or-.list>``: open the proofreading editor directly.

Works on a gsv project folder (its ``asr/<slug>.list``) or on any upstream ``.list`` file.
Every change is saved at once (journal + atomic rewrite of the list), so there is no save key.
"""
from __future__ import annotations

import argparse
import os
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("proofread", help="listen to each clip and fix its text (keyboard editor)")
    p.add_argument("target", nargs="?", default=None,
                   help="project folder or .list file (default: -C project or the current folder)")
    p.add_argument("--backend", default=None,
                   choices=("auto", "pulse", "sounddevice", "alsa", "ffplay", "http"),
                   help="playback backend (default: the app config's playback_backend)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.dataset.proofread.locks import ListBusy
    from engine.dataset.proofread.session import ProofSession
    from engine.dataset.proofread.source import SourceError, paths_for
    from engine.dataset.proofread.status import record_session
    from engine.project import ProjectError
    from gsv_tui.cli import NO_TTY_MESSAGE, has_terminal

    target = args.target or getattr(args, "project", None) or os.getcwd()
    try:
        paths = paths_for(target)
    except (SourceError, OSError) as e:
        print(f"gsv proofread: {e}", file=sys.stderr)
        return 2
    if not has_terminal() and not os.environ.get("GSV_FORCE_TUI"):
        print(NO_TTY_MESSAGE, file=sys.stderr)
        return 2
    try:
        session = ProofSession(paths, who="gsv proofread")
    except ListBusy as e:
        print(f"gsv proofread: {e.reason} {e.hint}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"gsv proofread: cannot open {paths.list_file}: {e}", file=sys.stderr)
        return 2
    if session.archived is not None:
        print(f"gsv proofread: the journal was damaged; it was kept as {session.archived}",
              file=sys.stderr)
    if session.taken_in:
        print(f"gsv proofread: {session.taken_in} line(s) changed outside the editor were "
              "taken in as edits", file=sys.stderr)
    from gsv_tui.proofread.app import ProofreadApp  # Textual only when the UI is wanted

    app = ProofreadApp(session, backend=args.backend)
    try:
        app.run()
    finally:
        session.close()  # (again: closing twice is harmless) before the status is recorded
    try:
        status = record_session(session)
    except ProjectError as e:
        print(f"gsv proofread: your edits are saved, but the step status was not: {e}",
              file=sys.stderr)
        return 1
    if status is not None:
        print(f"gsv proofread: step recorded as {status}", file=sys.stderr)
    return 0
