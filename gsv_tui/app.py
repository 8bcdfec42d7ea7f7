"""The Textual app: project picker, the step wizard, help, command palette, themes, and the
job monitor (on the App, so leaving a screen never stops watching a job)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App
from textual.worker import Worker, WorkerState

from engine import jobs
from engine.appconfig import load_config, save_config
from engine.project import ProjectError, load_project
from engine.steps import REGISTRY, entry
from gsv_tui.actions import APP_ACTIONS, bindings
from gsv_tui.commands_palette import WizardCommands
from gsv_tui.jobmonitor import JobMonitor
from gsv_tui.messages import JobUpdate
from gsv_tui.screens.error import ErrorScreen
from gsv_tui.screens.help import HelpScreen
from gsv_tui.screens.picker import PickerScreen
from gsv_tui.screens.wizard import WizardScreen
from themes import DEFAULT_THEME, THEMES, variable_defaults

POLL_S = 0.25


class GsvApp(App[int]):
    TITLE = "gsv-tui"
    BINDINGS = bindings(APP_ACTIONS)
    COMMANDS = App.COMMANDS | {WizardCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, project: str | Path | None = None) -> None:
        super().__init__()
        self.config = load_config()
        self.project_arg = project
        self.project = None
        self.monitor = JobMonitor(self)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults()

    def theme_names(self) -> list[str]:
        return [t.name for t in THEMES]

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = self.config.theme if self.config.theme in self.available_themes else DEFAULT_THEME
        if self.config.keymap:
            self.set_keymap(self.config.keymap)
        self.set_interval(POLL_S, self.monitor.poll)
        root = self._initial_root()
        if root is not None:
            self.open_project(root)
        else:
            self.push_screen(PickerScreen(), self._picked)

    def _initial_root(self) -> Path | None:
        if self.project_arg is not None:
            return Path(self.project_arg)
        if (Path.cwd() / "project.toml").exists():
            return Path.cwd()
        return None

    def _picked(self, root: str | None) -> None:
        if root:
            self.open_project(Path(root))

    # --- projects --------------------------------------------------------------------------
    def open_project(self, root: Path) -> None:
        try:
            project = load_project(root)
        except ProjectError as exc:
            self.push_screen(PickerScreen(), self._picked)
            self.show_error("Could not open the project", str(exc))
            return
        self.project = project
        if isinstance(self.screen, WizardScreen):
            self.pop_screen()
        self.push_screen(WizardScreen(project))
        self.monitor.open(project.root)
        self.refresh_statuses()
        self.config.add_recent(project.root)
        try:
            save_config(self.config)
        except OSError:
            pass

    def wizard(self) -> WizardScreen | None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, WizardScreen):
                return screen
        return None

    def refresh_statuses(self) -> None:
        wiz = self.wizard()
        if wiz is None or self.project is None:
            return
        try:
            self.project = load_project(self.project.root)
        except ProjectError:
            return
        running = {REGISTRY[j.step].pane_id if j.step in REGISTRY else j.step
                   for j in self.monitor.active()}
        wiz.update_statuses(self.project, running)

    # --- jobs ------------------------------------------------------------------------------
    def start_job(self, step_id: str, request: Any, target: str | None = None) -> jobs.JobInfo:
        """Submit one run of a registry entry as a detached job (StepError if refused).
        ``target`` replaces the entry's run function (tests run tiny stand-in steps)."""
        assert self.project is not None
        job = jobs.submit(self.project.root, step_id, target or entry(step_id).run, request)
        self.monitor.watch(job)
        self.refresh_statuses()
        return job

    @work(thread=True, exclusive=False, group="cancel", exit_on_error=False)
    def cancel_job(self, job: jobs.JobInfo) -> None:
        # Graceful stop may take a while (training finishes its step): not on the UI loop.
        jobs.cancel(job.run_dir)

    def deliver(self, message: JobUpdate) -> None:
        """Route a job's events to its step's pane (created lazily if not shown yet)."""
        wiz = self.wizard()
        if wiz is None:
            return
        # Actions (export, listen) report to the pane that starts them.
        step = message.job.step
        pane = wiz.pane(REGISTRY[step].pane_id if step in REGISTRY else step, create=True)
        if pane is not None:
            pane.post_message(message)
        self.refresh_statuses()

    def show_error(self, title: str, detail: str) -> None:
        self.push_screen(ErrorScreen(title, detail))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """Every worker failure ends here: the real cause, in one modal."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            err = event.worker.error
            self.show_error(f"{event.worker.name or 'A background task'} failed",
                            f"{type(err).__name__}: {err}\n\nThe project's files are unchanged; "
                            "try again, and report it if it repeats.")

    # --- actions ---------------------------------------------------------------------------
    def action_help(self) -> None:
        specs = list(APP_ACTIONS)
        extra = getattr(self.screen, "ACTION_SPECS", None)
        pane = self._current_pane() if isinstance(self.screen, WizardScreen) else None
        if pane is not None and pane.ACTION_SPECS:
            extra = pane.ACTION_SPECS
        if extra:
            specs = list(extra) + specs
        self.push_screen(HelpScreen(specs, self.config.keymap,
                                    "Tab moves between regions; Enter activates."))

    def goto_step(self, step_id: str) -> None:
        wiz = self.wizard()
        if wiz is not None:
            if self.screen is not wiz:
                return
            wiz.show_step(step_id)

    def action_next_step(self) -> None:
        wiz = self.wizard()
        if wiz is not None and self.screen is wiz:
            wiz.move(+1)

    def action_prev_step(self) -> None:
        wiz = self.wizard()
        if wiz is not None and self.screen is wiz:
            wiz.move(-1)

    def _current_pane(self):
        wiz = self.wizard()
        return wiz.pane(wiz.current_step) if wiz is not None else None

    def action_run_step(self) -> None:
        pane = self._current_pane()
        if pane is not None:
            pane.run_step()

    def action_stop_step(self) -> None:
        pane = self._current_pane()
        if pane is not None:
            pane.stop_step()

    def action_open_project(self) -> None:
        self.push_screen(PickerScreen(), self._picked)

    def action_toggle_dark_light(self) -> None:
        names = self.theme_names()
        self.theme = names[(names.index(self.theme) + 1) % len(names)] if self.theme in names else names[0]
        self.config.theme = self.theme
        try:
            save_config(self.config)
        except OSError:
            pass
