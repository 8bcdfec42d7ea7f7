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
    from engine.dataset.proofread.session import ProofSession
    from engine.dataset.proofread.source import SourceError, paths_for
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
        session = ProofSession(paths)
    except OSError as e:
        print(f"gsv proofread: cannot open {paths.list_file}: {e}", file=sys.stderr)
        return 2
    if session.archived is not None:
        print(f"gsv proofread: the list changed outside the editor; the old journal was kept "
              f"as {session.archived}", file=sys.stderr)
    from gsv_tui.proofread.app import ProofreadApp  # Textual only when the UI is wanted

    app = ProofreadApp(session, backend=args.backend)
    app.run()
    return 0
