"""The pane each wizard step shows: what the step does, its settings, Run/Stop, live
progress and log, and its last result. Steps subclass :class:`StepPane` in
``gsv_tui/panes/<step_id>.py`` (``import_.py`` for the import step) as ``Pane``.

Running from the TUI always goes through a detached job (``engine.jobs``): the step runs in
its own process, keeps C-library output off the screen and survives the TUI."""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, ProgressBar, RichLog, Static

from engine.events import Artifact, Failed, Log, Progress, Result, StepError
from engine.project import Project, ProjectError, load_project, set_step_settings
from engine.settings import apply, non_defaults, validate
from engine.steps import STEP_BY_ID
from gsv_tui.messages import JobUpdate
from gsv_tui.widgets.settings_form import SettingsForm


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class StepPane(VerticalScroll):
    """Subclasses set ``step_id``, ``request_cls`` and ``target`` (``"module:function"``),
    and may override :meth:`fixed_fields`, :meth:`compose_extra` and :meth:`show_result`."""

    step_id: ClassVar[str] = ""
    request_cls: ClassVar[type | None] = None
    target: ClassVar[str] = ""
    # Request fields filled by the app, not shown in the form.
    hidden_fields: ClassVar[tuple[str, ...]] = ("project_root",)
    # Steps that never run as a job (the project step) show no progress area.
    has_jobs: ClassVar[bool] = True
    # The pane's own keys (gsv_tui.actions.ActionSpec with scope=step id); subclasses set
    # BINDINGS = bindings(ACTION_SPECS) so the help overlay and the keymap know them.
    ACTION_SPECS: ClassVar[tuple] = ()

    DEFAULT_CSS = """
    StepPane { padding: 0 2; }
    StepPane .pane-title { text-style: bold; color: $primary; padding-top: 1; }
    StepPane .pane-summary { color: $text-muted; }
    StepPane .pane-status { padding: 1 0 0 0; }
    StepPane .pane-controls { height: auto; padding: 1 0; }
    StepPane .pane-controls Button { margin-right: 2; }
    StepPane ProgressBar { padding: 0 0 1 0; }
    StepPane .pane-progress-text { color: $text-muted; }
    StepPane RichLog { height: 12; border: round $panel; }
    StepPane .pane-result { padding: 1 0; }
    StepPane .pane-failed { color: $error; }
    StepPane #job-area { height: auto; }
    StepPane #job-area.-hidden { display: none; }
    """

    def __init__(self, project: Project, **kw: Any) -> None:
        super().__init__(id=f"pane-{self.step_id}", **kw)
        self.project = project
        self.job = None

    # --- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        info = STEP_BY_ID[self.step_id]
        yield Label(info.title, classes="pane-title")
        yield Label(info.summary, classes="pane-summary")
        yield Static("", classes="pane-status", id="status", markup=False)
        yield from self.compose_extra()
        if self.request_cls is not None:
            yield SettingsForm(self.request_cls, self.initial_settings(),
                               skip=self.hidden_fields, id="settings")
        if self.has_jobs:
            with Horizontal(classes="pane-controls"):
                if self.target:
                    yield Button("Run", id="run", variant="primary")
                # Stop works for any job of this step, also one started from the CLI.
                yield Button("Stop", id="stop", variant="error", disabled=True)
            # The progress area appears with the step's first job (this run or an earlier one).
            with Vertical(id="job-area", classes="-hidden"):
                yield ProgressBar(id="progress", show_eta=False)
                yield Label("", classes="pane-progress-text", id="progress-text", markup=False)
                yield RichLog(id="log", max_lines=500, wrap=True, markup=False)
        yield Static("", classes="pane-result", id="result", markup=False)

    def compose_extra(self) -> ComposeResult:
        """Step-specific widgets above the settings (tables, previews)."""
        return iter(())

    def initial_settings(self) -> dict[str, Any]:
        """What the form shows: the project's stored settings (steps may add defaults that
        follow from the project, e.g. its language)."""
        return self.project.step_settings(self.step_id)

    def on_mount(self) -> None:
        self.refresh_status()

    # --- requests ------------------------------------------------------------------------
    def fixed_fields(self) -> dict[str, Any]:
        names = {f.name for f in dataclasses.fields(self.request_cls)} if self.request_cls else set()
        return {"project_root": str(self.project.root)} if "project_root" in names else {}

    def build_request(self) -> Any:
        assert self.request_cls is not None
        values = self.query_one(SettingsForm).values()
        stored = self.project.step_settings(self.step_id)
        stored.update(values)
        request = apply(self.request_cls, stored, **self.fixed_fields())
        validate(request)
        return request

    # --- actions -------------------------------------------------------------------------
    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        self.run_step()

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self) -> None:
        self.stop_step()

    def run_step(self) -> None:
        if not self.target:
            return
        if self.job is not None and self.job.active:
            self.app.notify("This step is already running.", severity="warning")
            return
        try:
            request = self.build_request()
        except (ValueError, StepError) as exc:
            reason = exc.reason if isinstance(exc, StepError) else str(exc)
            hint = exc.hint if isinstance(exc, StepError) else ""
            self.app.notify(f"{reason}\n{hint}".strip(), title="Check the settings", severity="error")
            return
        try:
            set_step_settings(self.project.root, self.step_id, non_defaults(request))
        except ProjectError as exc:
            self.app.show_error("Could not save the settings", str(exc))
            return
        self.query_one("#log", RichLog).clear()
        self.query_one("#job-area").remove_class("-hidden")
        self.query_one("#result", Static).update("")
        self.job = self.app.start_job(self.step_id, self.target, request)
        self._set_running(True)

    def stop_step(self) -> None:
        # The monitor knows the step's job even before this pane has had an update from it.
        job = self.app.monitor.latest.get(self.step_id) or self.job
        if job is not None and job.active:
            self.app.cancel_job(job)
        else:
            self.app.notify("No job of this step is running.", severity="information")

    def _set_running(self, running: bool) -> None:
        if self.target:
            self.query_one("#run", Button).disabled = running
        if self.has_jobs:
            self.query_one("#stop", Button).disabled = not running

    # --- job events ----------------------------------------------------------------------
    @on(JobUpdate)
    def _job_update(self, message: JobUpdate) -> None:
        message.stop()
        self.job = message.job
        if not self.has_jobs:
            return
        self.query_one("#job-area").remove_class("-hidden")
        log = self.query_one("#log", RichLog)
        for ev in message.events:
            if isinstance(ev, Progress):
                bar = self.query_one("#progress", ProgressBar)
                bar.update(total=ev.total, progress=ev.done)
                metrics = "  ".join(f"{k} {v:.4g}" for k, v in ev.metrics.items())
                eta = f"  eta {_eta(ev.eta_s)}" if ev.eta_s is not None else ""
                self.query_one("#progress-text", Label).update(f"{ev.message}{eta}  {metrics}".strip())
            elif isinstance(ev, Log):
                log.write(ev.line)
            elif isinstance(ev, Result):
                self.query_one("#result", Static).update(f"✔ {ev.summary}")
                self.show_result(ev)
            elif isinstance(ev, Failed):
                res = self.query_one("#result", Static)
                res.update(f"✘ {ev.reason}" + (f"\n  {ev.hint}" if ev.hint else ""))
                res.add_class("pane-failed")
            elif isinstance(ev, Artifact):
                pass
        self._set_running(message.job.active)
        if not message.job.active:
            if message.job.state == "failed" and not any(isinstance(e, Failed) for e in message.events):
                res = self.query_one("#result", Static)
                if not str(res.render()).strip():
                    res.update(f"✘ {message.job.reason}\n{message.job.hint}")
                    res.add_class("pane-failed")
            self.refresh_status()

    def show_result(self, result: Result) -> None:
        """Step-specific rendering of a finished run (tables, histograms)."""

    def refresh_status(self) -> None:
        try:
            self.project = load_project(self.project.root)
        except ProjectError:
            return
        st = self.project.step(self.step_id)
        text = f"Status: {st.status}"
        if st.message:
            text += f" — {st.message}"
        if self.job is not None and self.job.active:
            text = f"Status: running (job {self.job.id})"
        self.query_one("#status", Static).update(text)
