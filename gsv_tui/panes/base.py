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
from engine.project import Project, ProjectError, load_project
from engine.requests import build_request, effective_settings, remember
from engine.steps import REGISTRY, STEP_BY_ID
from gsv_tui.messages import JobUpdate
from gsv_tui.widgets.settings_form import SettingsForm


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class StepPane(VerticalScroll):
    """Subclasses set ``step_id`` (the registry entry gives the request class and what
    runs), and may override :meth:`fixed_fields`, :meth:`compose_extra` and
    :meth:`show_result`."""

    step_id: ClassVar[str] = ""
    # Knobs the pane renders with widgets of its own (or never shows), not in the form.
    hidden_fields: ClassVar[tuple[str, ...]] = ("project_root",)
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

    @property
    def entry(self):  # noqa: ANN201 - engine.steps.StepEntry
        return REGISTRY[self.step_id]

    @property
    def request_cls(self) -> type | None:
        return self.entry.request_cls() if self.entry.request else None

    @property
    def has_jobs(self) -> bool:
        """Steps that never run as a job (project, proofread) show no progress area."""
        return self.entry.job

    @property
    def runnable(self) -> bool:
        return bool(self.entry.run) and self.entry.job

    # --- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        info = STEP_BY_ID[self.step_id]
        yield Label(info.title, classes="pane-title")
        yield Label(info.summary, classes="pane-summary")
        yield Static("", classes="pane-status", id="status", markup=False)
        yield from self.compose_extra()
        if self.request_cls is not None:
            yield SettingsForm(self.request_cls, self.initial_settings(),
                               skip=self.hidden_fields + self.entry.inputs, id="settings")
        if self.has_jobs:
            with Horizontal(classes="pane-controls"):
                if self.runnable:
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
        """What the form shows: what the next run uses (defaults, the project's defaults such
        as its language, the stored settings), the same values `gsv <step>` would use."""
        return effective_settings(self.project, self.step_id)

    def on_mount(self) -> None:
        self.refresh_status()

    # --- requests ------------------------------------------------------------------------
    def fixed_fields(self) -> dict[str, Any]:
        """Values from the pane's own widgets: the step's inputs (what to import, what to
        say) and knobs it renders itself. Raise StepError when an input is missing."""
        return {}

    def build_request(self, step_id: str | None = None, extra: dict[str, Any] | None = None) -> Any:
        """The request through the engine's one rule (engine.requests): the form's values
        and the pane's own widgets over the stored settings."""
        step_id = step_id or self.step_id
        own = REGISTRY[step_id]
        values = dict(self.query_one(SettingsForm).values()) if step_id == self.step_id else {}
        values.update(self.fixed_fields() if extra is None else extra)
        names = {f.name for f in dataclasses.fields(own.request_cls())}
        values = {k: v for k, v in values.items() if k in names and k != "project_root"}
        inputs = {k: v for k, v in values.items() if k in own.inputs}
        overrides = {k: v for k, v in values.items() if k not in own.inputs}
        return build_request(self.project, step_id, overrides, inputs=inputs)

    # --- actions -------------------------------------------------------------------------
    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        self.run_step()

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self) -> None:
        self.stop_step()

    def run_step(self) -> None:
        if not self.runnable:
            return
        self.start(self.step_id)

    def start(self, step_id: str, extra: dict[str, Any] | None = None, request: Any = None) -> None:
        """Build (unless given), store and submit one run of ``step_id`` as a job."""
        if self.job is not None and self.job.active:
            self.app.notify(f"A {self.job.step} job is already running here.", severity="warning")
            return
        try:
            if request is None:
                request = self.build_request(step_id, extra)
        except (ValueError, StepError) as exc:
            reason = exc.reason if isinstance(exc, StepError) else str(exc)
            hint = exc.hint if isinstance(exc, StepError) else ""
            self.app.notify(f"{reason}\n{hint}".strip(), title="Check the settings", severity="error")
            return
        try:
            remember(self.project, step_id, request)
        except ProjectError as exc:
            self.app.show_error("Could not save the settings", str(exc))
            return
        try:
            job = self.app.start_job(step_id, request)
        except StepError as exc:  # e.g. the step is already running, from the CLI
            self.app.notify(f"{exc.reason}\n{exc.hint}".strip(), title="Not started",
                            severity="warning", timeout=10)
            return
        self.query_one("#log", RichLog).clear()
        self.query_one("#job-area").remove_class("-hidden")
        self.query_one("#result", Static).update("")
        self.job = job
        self._set_running(True)

    def stop_step(self) -> None:
        # The monitor knows the step's job even before this pane has had an update from it.
        job = self.job if self.job is not None and self.job.active else None
        job = job or self.app.monitor.latest.get(self.step_id) or self.job
        if job is not None and job.active:
            self.app.cancel_job(job)
        else:
            self.app.notify("No job of this step is running.", severity="information")

    def _set_running(self, running: bool) -> None:
        if self.runnable:
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
