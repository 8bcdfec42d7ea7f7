"""``gsv import FILES…``: decode recordings into the project (audio/raw) with a report."""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from gsv_tui.commands._common import (add_job_args, add_project_arg, add_settings_flags,
                                      open_project, run_registered)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="bring recordings (files or folders) into the project")
    p.add_argument("sources", nargs="+", help="audio/video files or folders (searched recursively)")
    add_settings_flags(p, "import")
    add_project_arg(p)
    add_job_args(p)
    p.set_defaults(func=run)


def _fmt(v: float | None, spec: str) -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


def print_report(root: Path) -> None:
    """The per-file table: what each imported recording holds."""
    try:
        doc = json.loads((root / "audio" / "raw" / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    rows = [("file", "length", "rate", "ch", "peak dBFS", "LUFS", "clipped", "silence", "notes")]
    for f in doc.get("files", []):
        rows.append((f["name"], f"{f['duration_s']:.1f} s", str(f["sample_rate"]),
                     str(f["channels"]), _fmt(f.get("peak_dbfs"), ".1f"),
                     _fmt(f.get("loudness_lufs"), ".1f"), f"{f['clipped_share']:.2%}",
                     f"{f['silence_share']:.0%}", "; ".join(f.get("warnings", []))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    for f in doc.get("not_imported", []):
        print(f"not imported: {Path(f['source']).name}: {f['reason']}")
    print(f"total: {doc.get('total_s', 0) / 60:.1f} min" +
          (f" — {doc['guidance']}" if doc.get("guidance") else ""))


def run(args: argparse.Namespace) -> int:
    project = open_project(args)
    sources = [str(Path(s).expanduser().resolve()) for s in args.sources]
    code = run_registered(args, "import", inputs={"sources": sources}, project=project)
    if code == 0 and not args.detach and not args.quiet and not args.print_request:
        print_report(project.root)
    return code
