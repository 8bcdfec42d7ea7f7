"""Time from process start to the wizard's first paint, in a fresh interpreter each run
(target: under 0.5 s), and which heavy modules are loaded at that point (must be none)."""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CODE = r"""
import time; t0 = time.perf_counter()
import asyncio, json, sys
from gsv_tui.app import GsvApp
async def main():
    app = GsvApp(sys.argv[1])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        t = time.perf_counter() - t0
        heavy = [m for m in ("torch", "faster_whisper", "funasr", "transformers") if m in sys.modules]
    print(json.dumps({"paint_s": t, "heavy": heavy}))
asyncio.run(main())
"""


def main(runs: int = 7) -> None:
    from engine.project import create_project

    with tempfile.TemporaryDirectory() as tmp:
        root = create_project(Path(tmp) / "p", "Bench").root
        results = []
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", CODE, str(root)], cwd=REPO,
                                 capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    times = sorted(r["paint_s"] for r in results)
    line = (f"| first paint (process start → wizard painted, {runs} fresh runs) | "
            f"median {statistics.median(times):.3f} s, min {times[0]:.3f} s, max {times[-1]:.3f} s | "
            f"heavy modules loaded: {sorted(set(sum((r['heavy'] for r in results), [])))} |")
    print(line)
    out_file = REPO / "bench" / "results" / "tui.md"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    header = "# TUI\n\n| measure | result | notes |\n|---|---|---|\n"
    prev = out_file.read_text() if out_file.exists() else header
    out_file.write_text(prev + line + "\n")


if __name__ == "__main__":
    main()
