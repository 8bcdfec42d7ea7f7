"""Import contracts, checked in fresh interpreters: the engine never imports Textual, and the
TUI never imports torch or the ASR libraries (they load in job processes only)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "faster_whisper", "funasr", "ctranslate2", "onnxruntime", "transformers")


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_engine_never_imports_textual():
    code = """
import importlib, json, pkgutil, sys
import engine
failed = {}
for m in pkgutil.walk_packages(engine.__path__, "engine."):
    try:
        importlib.import_module(m.name)
    except Exception as exc:  # reported: a module that cannot import is a bug too
        failed[m.name] = repr(exc)
print(json.dumps({"textual": sorted(k for k in sys.modules if k == "textual" or k.startswith("textual.")),
                  "failed": failed, "count": len([k for k in sys.modules if k.startswith("engine")])}))
"""
    res = _run(code)
    assert res["textual"] == []
    assert res["failed"] == {}
    assert res["count"] > 10


def test_tui_has_no_heavy_imports_after_visiting_every_step(tmp_path):
    code = f"""
import asyncio, json, sys, time
from engine.project import create_project
from engine.steps import STEP_IDS
create_project({str(tmp_path / 'p')!r}, "Contract")
from gsv_tui.app import GsvApp
async def main():
    app = GsvApp({str(tmp_path / 'p')!r})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        first = sorted(h for h in {HEAVY!r} if h in sys.modules)
        for step in STEP_IDS:
            app.goto_step(step)
            await pilot.pause()
        shown = app.wizard().current_step
        after = sorted(h for h in {HEAVY!r} if h in sys.modules)
    print(json.dumps({{"first": first, "after": after, "shown": shown}}))
asyncio.run(main())
"""
    res = _run(code)
    assert res["shown"] == "convert"  # the last step
    assert res["first"] == [], "heavy modules imported before first paint"
    assert res["after"] == [], "a step pane imported a heavy module into the TUI process"
