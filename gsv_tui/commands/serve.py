"""``gsv serve``: speak with the trained voice over HTTP (OpenAI's /v1/audio/speech and
upstream api_v2's /tts), on 127.0.0.1 unless --host and --allow-remote say otherwise."""
from __future__ import annotations

import argparse

from gsv_tui.commands._common import add_project_arg, fail, project_root


def register(sub: argparse._SubParsersAction) -> None:
    from engine.serve.config import DEFAULT_PORT, ServeConfig

    d = ServeConfig()
    p = sub.add_parser("serve", help="serve the voice over HTTP on this machine (OpenAI and "
                                     "api_v2 compatible; token in the app's config folder)")
    add_project_arg(p)
    p.add_argument("--bundle", action="append", default=[], metavar="DIR",
                   help="also serve an exported voice bundle (repeatable; with --bundle and no "
                        "-C, only the bundles are served)")
    p.add_argument("--host", default=d.host, help=f"address to listen on (default {d.host})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port (default {DEFAULT_PORT}, as upstream's api_v2; 0: any free port)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a --host other than loopback (reachable from other machines; "
                        "prefer an ssh -L tunnel)")
    p.add_argument("--queue", dest="queue_size", type=int, default=d.queue_size, metavar="N",
                   help=f"requests that may wait per voice; more get 429 (default {d.queue_size})")
    p.add_argument("--timeout", dest="timeout_s", type=float, default=d.timeout_s, metavar="S",
                   help=f"per-request limit, queue time included (default {d.timeout_s:g} s)")
    p.add_argument("--max-chars", type=int, default=d.max_chars, metavar="N",
                   help=f"longest text per request (default {d.max_chars})")
    p.add_argument("--ref-dir", dest="ref_dirs", action="append", default=[], metavar="DIR",
                   help="another folder api_v2's ref_audio_path may point into (repeatable)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=d.device)
    p.add_argument("--precision", choices=("exact", "bf16", "int8"), default=d.precision,
                   help="CPU speed-up, as gsv synthesize --precision")
    p.add_argument("--threads", type=int, default=0, metavar="N", help="torch threads (0: default)")
    p.add_argument("--offline", dest="allow_download", action="store_false",
                   help="never download BERT/HuBERT; use local models only")
    p.add_argument("--new-token", action="store_true",
                   help="replace the token (old clients stop working)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.events import StepError
    from engine.serve.config import ServeConfig
    from engine.serve.server import serve

    explicit = getattr(args, "sub_project", None) or getattr(args, "project", None)
    root = "" if args.bundle and not explicit else str(project_root(args))
    for name, value, low in (("--queue", args.queue_size, 1), ("--max-chars", args.max_chars, 1)):
        if value < low:
            fail(f"{name} {value}: must be at least {low}")
    if not args.timeout_s > 0:
        fail(f"--timeout {args.timeout_s}: must be more than 0 seconds")
    cfg = ServeConfig(project_root=root, bundles=args.bundle, host=args.host, port=args.port,
                      allow_remote=args.allow_remote, queue_size=args.queue_size,
                      timeout_s=args.timeout_s, max_chars=args.max_chars, ref_dirs=args.ref_dirs,
                      device=args.device, precision=args.precision, threads=args.threads,
                      allow_download=args.allow_download, new_token=args.new_token)
    try:
        return serve(cfg)
    except StepError as exc:
        fail(exc.reason + (f"\n  what to do: {exc.hint}" if exc.hint else ""))
        return 2
