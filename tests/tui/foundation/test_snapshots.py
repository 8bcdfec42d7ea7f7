"""Snapshot tests of the wizard's look (fixed terminal size, fixed project path, no cursor
blink). Update the baselines with `pytest --snapshot-update` after an intended change."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.project import create_project, record_step
from gsv_tui.app import GsvApp

ROOT = Path("/tmp/gsv-snapshot/voice")
SIZE = (100, 28)


@pytest.fixture
def snap_project():
    shutil.rmtree(ROOT.parent, ignore_errors=True)
    p = create_project(ROOT, "Snapshot voice", language="en")
    record_step(p.root, "import", "done", message="2 imported")
    record_step(p.root, "slice", "failed", message="no clips")
    yield p
    shutil.rmtree(ROOT.parent, ignore_errors=True)


def test_wizard_project_step(snap_compare, snap_project):
    assert snap_compare(GsvApp(snap_project.root), terminal_size=SIZE)


def test_help_overlay(snap_compare, snap_project):
    assert snap_compare(GsvApp(snap_project.root), press=["f1"], terminal_size=SIZE)


def test_high_contrast_theme(snap_compare, snap_project):
    async def contrast(pilot):
        pilot.app.theme = "gsv-contrast"
        await pilot.pause()

    assert snap_compare(GsvApp(snap_project.root), run_before=contrast, terminal_size=SIZE)
