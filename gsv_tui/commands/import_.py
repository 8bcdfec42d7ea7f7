"""``gsv import FILES…``: decode recordings into the project (audio/raw) with a report."""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from gsv_tui.commands._common import add_job_args, add_project_arg, open_project, run_step_cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="bring recordings (files or folders) into the project")
    p.add_argument("sources", nargs="+", help="audio/video files or folders (searched recursively)")
    p.add_argument("--normalize", action="store_true",
                   help="bring each file's peak into --peak-min-db … --peak-max-db")
    p.add_argument("--peak-min-db", type=float, default=-9.0, help="default −9 dBFS")
    p.add_argument("--peak-max-db", type=float, default=-6.0, help="default −6 dBFS")
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
    from engine.audio.import_step import ImportRequest, run_import

    project = open_project(args)
    req = ImportRequest(project_root=str(project.root),
                        sources=[str(Path(s).expanduser().resolve()) for s in args.sources],
                        normalize=args.normalize, peak_min_db=args.peak_min_db,
                        peak_max_db=args.peak_max_db)
    code = run_step_cli(args, "import", run_import, req)
    if code == 0 and not args.detach and not args.quiet:
        print_report(project.root)
    return code
