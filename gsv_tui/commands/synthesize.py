"""``gsv synthesize``: speak text in the trained voice (``--text`` or ``--file``), listen to
every checkpoint (``--checkpoints``), or list the reference clips (``--list-refs``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.settings import apply
from engine.synth.request import (CUT_METHODS, DEVICES, LANGS, TEXT_LANGS,
                                  ListenCheckpointsRequest, SynthRequest)
from gsv_tui.commands._common import (add_job_args, add_project_arg, fail, open_project,
                                      run_step_cli)

# argparse dest -> request field, for options that override the project's stored settings
_OVERRIDES = {"lang": "language", "ref": "ref_wav", "ref_text": "ref_text",
              "ref_lang": "ref_language", "gpt": "gpt_path", "sovits": "sovits_path",
              "cut": "cut_method", "top_k": "top_k", "top_p": "top_p",
              "temperature": "temperature", "speed": "speed", "pause": "pause_s",
              "seed": "seed", "device": "device", "out": "output_name",
              "bert_dir": "bert_dir", "hubert_dir": "hubert_dir", "precision": "precision"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synthesize", help="speak text in the trained voice; --checkpoints: "
                                          "one test sentence per saved checkpoint")
    add_project_arg(p)
    add_job_args(p)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--text", default=None, help="what to say")
    what.add_argument("--file", default=None, help="a UTF-8 text file to read aloud")
    p.add_argument("--lang", choices=TEXT_LANGS, default=None,
                   help="language of the text (default: the project's)")
    p.add_argument("--ref", default=None, metavar="CLIP",
                   help="reference clip, 3–10 s (default: a proofread clip near 6 s)")
    p.add_argument("--ref-text", default=None, help="what the reference says (default: from the .list)")
    p.add_argument("--ref-lang", choices=LANGS, default=None)
    p.add_argument("--ref-free", action="store_true", help="reference-free mode")
    p.add_argument("--seed", type=int, default=None, help="random seed (piece i uses seed + i)")
    p.add_argument("--reroll", action="append", default=[], metavar="PIECE:SEED",
                   help="give one piece its own seed, e.g. --reroll 2:777 (repeatable)")
    p.add_argument("--cut", choices=CUT_METHODS, default=None, help="how to cut the text")
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--top-p", type=float, default=None)
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument("--speed", type=float, default=None)
    p.add_argument("--pause", type=float, default=None, help="seconds of silence between pieces")
    p.add_argument("--gpt", default=None, help="GPT weights (.ckpt; default: the newest)")
    p.add_argument("--sovits", default=None, help="SoVITS weights (.pth; default: the newest)")
    p.add_argument("--out", default=None, help="file name under output/")
    p.add_argument("--device", choices=DEVICES, default=None)
    p.add_argument("--precision", choices=("exact", "bf16", "int8"), default=None,
                   help="CPU speed-up (exact matches upstream; bf16/int8 round the maths)")
    p.add_argument("--bert-dir", default=None)
    p.add_argument("--hubert-dir", default=None)
    p.add_argument("--offline", action="store_true", help="never download BERT/HuBERT")
    p.add_argument("--checkpoints", action="store_true",
                   help="read one test sentence with every saved checkpoint (output/checkpoints/)")
    p.add_argument("--grid", action="store_true",
                   help="with --checkpoints: every SoVITS x GPT combination")
    p.add_argument("--list-refs", action="store_true",
                   help="list the proofread clips usable as references and exit")
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
        from engine.synth.reference import candidates

        found = candidates(project.layout)
        for c in found:
            print(f"{c.seconds:5.1f} s  {c.language}  {c.wav}  {c.text}")
        if not found:
            print("no proofread clip of 3–10 s yet")
        return 0
    stored = project.step_settings("synthesize")
    stored.setdefault("language", project.language)
    stored.setdefault("ref_language", project.language)
    for dest, name in _OVERRIDES.items():
        if getattr(args, dest) is not None:
            stored[name] = getattr(args, dest)
    text = _text(args)
    fixed = {"project_root": str(project.root), "allow_download": not args.offline}
    if args.checkpoints:
        fixed["text"] = text or ""  # not the last spoken text: a default test sentence
        fixed["pairs"] = "grid" if args.grid else "each"
        stored.setdefault("seed", 1234)
        if stored["seed"] < 0:
            stored["seed"] = 1234
        request = apply(ListenCheckpointsRequest, stored, **fixed)
        from engine.synth.listen import run_listen_checkpoints

        return run_step_cli(args, "synthesize", run_listen_checkpoints, request)
    if not text or not text.strip():
        fail("say what to speak: --text '…' or --file story.txt")
    fixed.update(text=text, ref_free=args.ref_free, piece_seeds=_rerolls(args.reroll))
    request = apply(SynthRequest, stored, **fixed)
    from engine.synth.step import run_synthesize

    return run_step_cli(args, "synthesize", run_synthesize, request)
