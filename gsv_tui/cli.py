"""``gsv``: the TUI with no sub-command; every wizard step headless as ``gsv <step>``.

Sub-commands live one per module in ``gsv_tui/commands/`` (each defines ``register``), so
each step's command sits next to nothing else. Importing this module never imports Textual
or torch: headless commands start fast."""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from gsv_tui import commands as _commands_pkg

NO_TTY_MESSAGE = (
    "gsv: no terminal here (standard input or output is not a TTY), so the app cannot draw.\n"
    "  Over SSH, connect with a terminal: `ssh -t HOST gsv` (better: run it inside tmux or screen).\n"
    "  Headless commands work without one: `gsv status`, `gsv jobs --follow`, `gsv --help`."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gsv", description="From raw recordings to a GPT-SoVITS voice, in the terminal.")
    parser.add_argument("-C", "--project", default=None,
                        help="project folder to open (default: the current folder if it holds one)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(_commands_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"gsv_tui.commands.{info.name}")
            module.register(sub)
        except Exception as exc:  # one broken command must not take the others down
            p = sub.add_parser(info.name.rstrip("_"), help=f"(unavailable: {exc})")
            p.set_defaults(func=lambda args, exc=exc: _broken(exc))
    return parser


def _broken(exc: Exception) -> int:
    print(f"gsv: this command could not load: {exc}\nRe-run `make setup`.", file=sys.stderr)
    return 2


def has_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty() and sys.stderr.isatty()


def open_tui(project: str | None) -> int:
    if not has_terminal() and not os.environ.get("GSV_FORCE_TUI"):
        print(NO_TTY_MESSAGE, file=sys.stderr)
        return 2
    from gsv_tui.app import GsvApp  # Textual only when a UI is really wanted

    app = GsvApp(project=project)
    app.run()
    return app.return_code or 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        return open_tui(args.project)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("gsv: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
