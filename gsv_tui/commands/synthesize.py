"""``gsv synthesize``: speak text in the trained voice (``--text`` or ``--file``), listen to
every checkpoint (``--checkpoints``), read a long text as a resumable job (``--file F
--long``), rank the reference clips (``--list-refs``) or try the best few (``--try-refs``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from gsv_tui.commands._common import (add_job_args, add_project_arg, add_settings_flags, fail,
                                      open_project, run_registered)

# Older, shorter spellings of generated flags.
ALIASES = {"language": ("--lang",), "ref_wav": ("--ref",), "ref_language": ("--ref-lang",),
           "gpt_path": ("--gpt",), "sovits_path": ("--sovits",), "cut_method": ("--cut",),
           "pause_s": ("--pause",)}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synthesize", help="speak text in the trained voice; --checkpoints: "
                                          "one test sentence per saved checkpoint")
    add_project_arg(p)
    add_job_args(p)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--text", default=None, help="what to say")
    what.add_argument("--file", default=None, help="a UTF-8 text file to read aloud")
    p.add_argument("--out", default="", metavar="NAME",
                   help="file name under output/ (default: <slug>-<time>.wav)")
    p.add_argument("--reroll", action="append", default=[], metavar="PIECE:SEED",
                   help="give one piece its own seed, e.g. --reroll 2:777 (repeatable)")
    add_settings_flags(p, "synthesize", aliases=ALIASES)
    p.add_argument("--checkpoints", action="store_true",
                   help="read one test sentence with every saved checkpoint (output/checkpoints/)")
    # Knobs only listening has; the ones it shares with synthesis come from the flags above.
    from engine.settings import knobs
    from engine.steps import entry

    shared = tuple(f.name for f in knobs(entry("synthesize").request_cls()))
    add_settings_flags(p, "listen", skip=shared, title="settings with --checkpoints",
                       print_request=False)
    p.add_argument("--grid", dest="pairs", action="store_const", const="grid", default=None,
                   help="with --checkpoints: every SoVITS x GPT combination (= --pairs grid)")
    p.add_argument("--long", action="store_true",
                   help="read --file (or --text) as a resumable long-text job into "
                        "output/long/<name>/: one file per paragraph or chapter plus the "
                        "joined file; run it again to go on after a stop")
    shared_read = shared + tuple(f.name for f in knobs(entry("listen").request_cls()))
    add_settings_flags(p, "read", skip=shared_read, title="settings with --long",
                       print_request=False)
    p.add_argument("--try-refs", action="store_true",
                   help="rank the proofread clips as references and read the test sentence "
                        "(--text) with the best few (output/references/)")
    shared_refs = shared_read + tuple(f.name for f in knobs(entry("read").request_cls()))
    add_settings_flags(p, "refs", skip=shared_refs, title="settings with --try-refs",
                       print_request=False)
    p.add_argument("--list-refs", action="store_true",
                   help="list the proofread clips usable as references, best-ranked first "
                        "(loudness, noise, clipping), and exit")
    p.set_defaults(func=run)


def _text(args: argparse.Namespace) -> str | None:
    if args.file:
        try:
            return Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {args.file}: {exc}")
    return args.text


def _rerolls(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        piece, _, seed = item.partition(":")
        if not (piece.isdigit() and seed.lstrip("-").isdigit()):
            fail(f"--reroll {item!r}: write PIECE:SEED, e.g. 2:777")
        out[piece] = int(seed)
    return out


def run(args: argparse.Namespace) -> int:
    project = open_project(args)
    if args.list_refs:
        from engine.synth.refrank import describe, rank

        found = rank(project.layout)
        for s in found:
            print(describe(s))
        if not found:
            print("no proofread clip of 3–10 s yet")
        return 0
    text = _text(args)
    if args.try_refs:
        return run_registered(args, "refs", inputs={"text": text or ""}, project=project)
    if args.checkpoints:
        # Listening is its own run (status, lock, settings); the flags it shares with
        # synthesis (language, reference, seed, device…) apply to it. The test sentence is
        # this run's input, not the last spoken text.
        return run_registered(args, "listen", inputs={"text": text or ""}, project=project)
    if args.long:
        if not args.file and not (text and text.strip()):
            fail("say what to read: --file story.txt (or --text '…') with --long")
        # The job reads the file itself (and keeps a copy), so a resumed run finds it.
        return run_registered(args, "read", project=project, inputs={
            "text_file": str(Path(args.file).expanduser().resolve()) if args.file else "",
            "text": "" if args.file else text, "piece_seeds": _rerolls(args.reroll),
            "output_name": args.out})
    if not text or not text.strip():
        fail("say what to speak: --text '…' or --file story.txt")
    return run_registered(args, "synthesize", project=project,
                          inputs={"text": text, "piece_seeds": _rerolls(args.reroll),
                                  "output_name": args.out})
