"""Pilot tests of the wizard shell: navigation, help overlay from the action registry (with
a user remap), live job progress reaching the step's pane, re-attaching to a job that was
started before the app, the project picker and broken-file errors, and the no-TTY exit."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from textual.widgets import Input, ProgressBar, Static

from engine import jobs
from engine.appconfig import AppConfig, save_config
from engine.project import create_project, load_project
from gsv_tui.app import GsvApp
from gsv_tui.screens.error import ErrorScreen
from gsv_tui.screens.help import HelpScreen
from gsv_tui.screens.picker import PickerScreen
from gsv_tui.screens.wizard import WizardScreen
from gsv_tui.widgets.sidebar import Sidebar, StepItem
from tests.helpers.pilot import until as _until
from tests.helpers.steps import CountRequest

REPO = Path(__file__).resolve().parents[3]
SIZE = (110, 34)



async def test_step_navigation_by_keys(tmp_path):
    p = create_project(tmp_path / "p", "Nav")
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        wiz = app.screen
        assert isinstance(wiz, WizardScreen) and wiz.current_step == "project"
        await pilot.press("ctrl+down")
        assert wiz.current_step == "import"
        await pilot.press("ctrl+down", "ctrl+down")
        assert wiz.current_step == "slice"
        await pilot.press("ctrl+up")
        assert wiz.current_step == "denoise"
        await pilot.press("down")  # the sidebar has focus: arrows move too
        assert wiz.current_step == "slice"
        assert wiz.query_one(Sidebar).index == 3
        items = {i.step_id: i for i in wiz.query(StepItem)}
        assert items["project"].status == "done" and items["slice"].status == "pending"


async def test_help_overlay_lists_registry_keys_including_remaps(tmp_path):
    save_config(AppConfig(keymap={"run_step": "f5"}))
    p = create_project(tmp_path / "p", "Help")
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(s.render()) for s in app.screen.query(Static))
        assert "Run this step" in text and "F5" in text.upper()
        assert "Next step" in text and "Quit" in text
        await pilot.press("escape")
        assert isinstance(app.screen, WizardScreen)
        # the remap is live, not only listed: f5 runs the step (the project pane has no job)
        await pilot.press("f5")
        assert isinstance(app.screen, WizardScreen)


async def test_job_progress_reaches_its_pane_and_sidebar(tmp_path):
    p = create_project(tmp_path / "p", "Jobs")
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        req = CountRequest(project_root=str(p.root), n=15, tick_s=0.05)
        job = app.start_job("format", req, target="tests.helpers.steps:run_count")
        app.goto_step("format")
        await pilot.pause()
        wiz = app.wizard()
        await _until(pilot, lambda: {i.step_id: i for i in wiz.query(StepItem)}["format"].status == "done")
        pane = wiz.pane("format")
        assert "counted to 15" in str(pane.query_one("#result", Static).render())
        assert load_project(p.root).step("format").status == "done"
        assert jobs.load_job(job.run_dir).state == "done"


async def test_reattaches_to_a_job_started_before_the_app(tmp_path):
    p = create_project(tmp_path / "p", "Reattach")
    job = jobs.submit(p.root, "train", "tests.helpers.steps:run_count",
                      CountRequest(project_root=str(p.root), n=30, tick_s=0.1))
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        wiz = app.wizard()
        await _until(pilot, lambda: {i.step_id: i for i in wiz.query(StepItem)}["train"].status == "running")
        assert "1 job running" in str(wiz.query_one("#topbar").render())
        await _until(pilot, lambda: jobs.load_job(job.run_dir).state == "done", timeout=60)
        await _until(pilot, lambda: {i.step_id: i for i in wiz.query(StepItem)}["train"].status == "done")
        pane = wiz.pane("train")
        assert pane.query_one("#progress", ProgressBar).progress == 30
        assert "counted to 30" in str(pane.query_one("#result", Static).render())


async def test_quitting_the_app_leaves_the_job_running(tmp_path):
    p = create_project(tmp_path / "p", "Quit")
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        job = app.start_job("asr", CountRequest(project_root=str(p.root), n=20, tick_s=0.1),
                            target="tests.helpers.steps:run_count")
        await pilot.pause(0.3)
        await pilot.press("ctrl+q")
    assert jobs.load_job(job.run_dir).active
    assert jobs.wait(job.run_dir, timeout=60).state == "done"


async def test_picker_creates_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = GsvApp()
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, PickerScreen)
        app.screen.query_one("#new-name", Input).focus()
        await pilot.press(*"Mi voz")
        app.screen.query_one("#new-dir", Input).value = str(tmp_path / "voz")
        await pilot.click("#create")
        await _until(pilot, lambda: isinstance(app.screen, WizardScreen))
        assert load_project(tmp_path / "voz").slug == "mi-voz"
        assert load_project(tmp_path / "voz").version == "v2ProPlus"  # the picker's default


async def test_broken_project_file_shows_the_error_and_the_picker(tmp_path):
    p = create_project(tmp_path / "p", "Broken")
    (p.root / "project.toml").write_text("name = [\n")
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen)
        detail = str(app.screen.query_one("#error-detail", Static).render())
        assert "line" in detail and "column" in detail
        await pilot.press("escape")
        assert isinstance(app.screen, PickerScreen)


def test_no_terminal_exits_at_once_with_the_ssh_hint(tmp_path):
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "gsv_tui.cli"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "ssh -t" in out.stderr and "\x1b[" not in out.stdout + out.stderr
    assert time.monotonic() - t0 < 30  # it exits rather than hanging (Textual would)


async def test_stop_key_cancels_the_steps_job(tmp_path):
    p = create_project(tmp_path / "p", "Stop")
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        job = app.start_job("asr", CountRequest(project_root=str(p.root), n=5000, tick_s=0.01),
                            target="tests.helpers.steps:run_count")
        app.goto_step("asr")
        wiz = app.wizard()
        await _until(pilot, lambda: {i.step_id: i for i in wiz.query(StepItem)}["asr"].status == "running")
        await pilot.press("ctrl+x")
        await _until(pilot, lambda: not jobs.load_job(job.run_dir).active)
        assert jobs.load_job(job.run_dir).state == "cancelled"
        await _until(pilot, lambda: {i.step_id: i for i in wiz.query(StepItem)}["asr"].status == "pending")
        assert "resume" in load_project(p.root).step("asr").message


async def test_help_shows_the_current_panes_own_keys_and_their_remaps(tmp_path):
    save_config(AppConfig(keymap={"synthesize.play": "ctrl+l"}))
    p = create_project(tmp_path / "p", "Pane keys")
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("synthesize")
        await pilot.pause()
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(s.render()) for s in app.screen.query(Static))
        assert "Re-roll the selected piece" in text
        assert "Ctrl+l" in text  # the remap is what the help shows


async def test_a_status_refresh_while_the_screen_is_torn_down_is_a_no_op(tmp_path):
    # A job's poll can land while the app closes and the wizard's widgets are going one by
    # one (seen once in CI: the sidebar still there, the top bar gone).
    p = create_project(tmp_path / "p", "Teardown")
    app = GsvApp(p.root)
    async with app.run_test(size=SIZE) as pilot:
        wiz = app.screen
        await wiz.query_one("#topbar").remove()
        app.refresh_statuses()
        await pilot.pause()
        assert wiz.query(Sidebar) and not wiz.query("#topbar")
