"""Train: a dashboard for SoVITS-then-GPT training, which runs as a background job.

Before a run: the plan (data set, device, batch sizes and why, where each stage resumes) and
"Start fresh", which sets the checkpoints aside (never deletes them). During a run: the
stage, epoch and step (their relation spelled out once), one loss curve per term, s/step,
ETA, GPU memory, the newest log lines and a command's countdown after the run. After it:
the checkpoint list (listen, use for synthesis), or the failure's cause with its fix.

Updates are coalesced: the app's monitor forwards a job's events at most every 0.25 s and a
progress-only update replaces a queued one; the pane then folds every new event from the
job's own events file at once (engine.train.progress) and redraws once."""
from __future__ import annotations

import shlex
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static, Switch

from engine.events import StepError
from engine.jobs import tail_log
from engine.jobs import then as then_mod
from engine.train.progress import STAGES, TrainView, fmt_s
from gsv_tui.actions import ActionSpec, bindings
from gsv_tui.messages import JobUpdate
from gsv_tui.panes.base import StepPane
from gsv_tui.widgets.checkpoint_list import CheckpointList
from gsv_tui.widgets.loss_curves import LossCurves

PLAN_DELAY_S = 0.4  # after the last settings edit, before the plan is worked out again


class PlanReady(Message):
    def __init__(self, lines: list[str], stages: tuple[str, ...]) -> None:
        super().__init__()
        self.lines, self.stages = lines, stages


class Pane(StepPane):
    step_id = "train"
    hidden_fields = ("project_root", "allow_download", "sovits", "gpt", "then")

    ACTION_SPECS = (
        ActionSpec("listen", "Listen: a test sentence read by every checkpoint", "l", "Train",
                   scope="train"),
        ActionSpec("use_for_synthesis", "Use the selected weights for synthesis", "u", "Train",
                   scope="train"),
        ActionSpec("cancel_then", "Cancel the command that runs after training", "c", "Train",
                   scope="train"),
    )
    BINDINGS = bindings(ACTION_SPECS)

    DEFAULT_CSS = """
    #pane-train #result { display: none; }
    #train-plan, #train-stage, #train-relation, #train-then, #train-cause, #train-outcome {
        height: auto; }
    #train-plan { padding: 1 0 0 0; }
    #train-dash { height: auto; padding: 1 0 0 0; }
    #train-dash.-hidden, #train-cancel-then.-hidden, #train-then.-hidden { display: none; }
    #train-stage { text-style: bold; }
    #train-relation { color: $text-muted; }
    #train-then { color: $warning; text-style: bold; }
    #train-cause { color: $error; }
    #train-outcome { color: $success; }
    #train-then-row { height: auto; }
    #train-then-row Label { width: 24; padding: 0 1 0 0; }
    #train-then-input { width: 1fr; }
    .train-buttons { height: auto; padding: 1 0 0 0; }
    .train-buttons Button { margin-right: 2; }
    """

    def __init__(self, project, **kw: Any) -> None:  # type: ignore[no-untyped-def]
        super().__init__(project, **kw)
        self.view = TrainView()
        self.stages: tuple[str, ...] = STAGES
        self.listen_job = None
        self._fresh_armed = False
        self._plan_timer = None

    # --- layout ------------------------------------------------------------------------
    def compose_extra(self) -> ComposeResult:
        yield Static("Training runs as a background job: you may quit or lose the connection; "
                     "`gsv` re-attaches. Running it again resumes from the newest checkpoint.",
                     classes="pane-summary")
        yield Static("Working out the plan…", id="train-plan", markup=False)
        with Horizontal(classes="train-buttons"):
            yield Button("Start fresh…", id="train-fresh")
            yield Button("Cancel the command", id="train-cancel-then", variant="warning",
                         classes="-hidden")
        with Vertical(id="train-dash", classes="-hidden"):
            yield Static("", id="train-stage", markup=False)
            yield Static("", id="train-relation", markup=False)
            yield LossCurves(id="train-curves")
            yield Static("", id="train-then", markup=False, classes="-hidden")
            yield Static("", id="train-outcome", markup=False)
            yield Static("", id="train-cause", markup=False)
        yield Label("Checkpoints — l: listen to all · u: use the selected one for synthesis",
                    classes="pane-title")
        yield CheckpointList(id="train-ckpts")
        with Horizontal(id="train-then-row"):
            yield Label("Then run")
            then = self.initial_settings().get("then") or []
            yield Input(shlex.join(then), id="train-then-input",
                        placeholder="after training, e.g. poweroff (arguments, no shell; "
                                    "sh -c '…' for one)")

    def on_mount(self) -> None:
        super().on_mount()
        self.refresh_checkpoints()
        self.refresh_plan()

    # --- requests ------------------------------------------------------------------------
    def fixed_fields(self) -> dict[str, Any]:
        text = self.query_one("#train-then-input", Input).value
        try:
            return {"then": shlex.split(text)}
        except ValueError as exc:  # an unclosed quote
            raise StepError(f"Then run: {exc}.", "Close the quote, or leave the field empty.") from None

    # --- the plan ------------------------------------------------------------------------
    @on(Input.Changed)
    @on(Select.Changed)
    @on(Switch.Changed)
    def _settings_changed(self) -> None:
        if self._plan_timer is not None:
            self._plan_timer.stop()
        self._plan_timer = self.set_timer(PLAN_DELAY_S, self.refresh_plan)

    def refresh_plan(self) -> None:
        try:
            req = self.build_request()
        except (ValueError, StepError) as exc:
            reason = exc.reason if isinstance(exc, StepError) else str(exc)
            self.query_one("#train-plan", Static).update(f"Plan: {reason}")
            return
        self._work_out_plan(req)

    @work(thread=True, exclusive=True, group="train-plan", exit_on_error=False)
    def _work_out_plan(self, req: Any) -> None:
        # nvidia-smi and the wav headers take a moment: never on the UI loop.
        from engine.train.plan import make_plan

        plan = make_plan(self.project.layout, self.project.version, req)
        self.post_message(PlanReady(plan.lines(), plan.stages))

    @on(PlanReady)
    def _plan_ready(self, message: PlanReady) -> None:
        self.stages = message.stages
        self.query_one("#train-plan", Static).update("\n".join(message.lines))

    # --- start fresh ---------------------------------------------------------------------
    @on(Button.Pressed, "#train-fresh")
    def _fresh_pressed(self) -> None:
        button = self.query_one("#train-fresh", Button)
        if not self._fresh_armed:  # two presses: setting checkpoints aside is never a slip
            self._fresh_armed = True
            button.label = "Confirm: set the checkpoints aside"
            button.variant = "warning"
            return
        self._fresh_armed = False
        button.label = "Start fresh…"
        button.variant = "default"
        self.start_fresh()

    def start_fresh(self) -> None:
        from engine.train.fresh import set_aside

        try:
            done = set_aside(self.project.root, self.project.slug, self.project.version)
        except (StepError, OSError) as exc:
            reason = exc.reason if isinstance(exc, StepError) else str(exc)
            hint = exc.hint if isinstance(exc, StepError) else ""
            self.app.notify(f"{reason}\n{hint}".strip(), title="Not set aside", severity="error")
            return
        self.app.notify(done.sentence(), title="Start fresh", timeout=10)
        self.refresh_checkpoints()
        self.refresh_plan()

    # --- checkpoints ---------------------------------------------------------------------
    def refresh_checkpoints(self) -> None:
        from engine.project import ProjectError, load_project
        from engine.train.exports import SETTING, list_weights

        try:
            stored = load_project(self.project.root).step_settings("synthesize")
        except ProjectError:
            stored = {}
        chosen = {kind: str(stored.get(key, "")) for kind, key in SETTING.items()}
        self.query_one(CheckpointList).show(list_weights(self.project.layout), chosen)

    def action_use_for_synthesis(self) -> None:
        from engine.project import ProjectError
        from engine.train.exports import use_for_synthesis

        w = self.query_one(CheckpointList).selected()
        if w is None:
            self.app.notify("No trained weights yet.", severity="information")
            return
        try:
            use_for_synthesis(self.project.root, w)
        except ProjectError as exc:
            self.app.show_error("Could not save the choice", str(exc))
            return
        self.app.notify(f"Synthesize now uses {w.rel} for {w.kind}.", title="Use for synthesis")
        self.refresh_checkpoints()

    def action_listen(self) -> None:
        """The listen action reads one test sentence with every checkpoint; its progress and
        wavs show in the Synthesize pane, which owns it, so this pane keeps its training job."""
        prior = self.job
        self.start("listen", {"text": ""})
        if self.job is not prior:
            self.listen_job, self.job = self.job, prior
            self._set_running(bool(prior is not None and prior.active))
            self.app.notify("Listening to every checkpoint: the readings go to "
                            "output/checkpoints/ (see the Synthesize pane).", title="Listen")

    # --- the command after training --------------------------------------------------------
    @on(Button.Pressed, "#train-cancel-then")
    def _cancel_then_pressed(self) -> None:
        self.action_cancel_then()

    def action_cancel_then(self) -> None:
        if then_mod.cancel(self.project.root, self.step_id):
            self.app.notify("The command after training will not run.", title="Cancelled")
        else:
            self.app.notify("No command is waiting to run.", severity="information")

    # --- the dashboard -------------------------------------------------------------------
    @on(JobUpdate)
    def _dashboard_update(self, message: JobUpdate) -> None:
        job = message.job
        if job.step != self.step_id:
            return
        seen = self.view.artifacts if self.view.run_dir == job.run_dir else -1
        # Every event since the last update, in one go: the view may read further than the
        # monitor did, so whether a checkpoint came is asked of the view, not the message.
        self.view.read(job.run_dir)
        self.query_one("#train-dash").remove_class("-hidden")
        self._show_stage()
        self.query_one(LossCurves).show(self.view.stages)
        self._show_then(job)
        self._show_outcome(job)
        if self.view.artifacts != seen or not job.active:
            self.refresh_checkpoints()
        if not job.active:
            self.refresh_plan()

    def _show_stage(self) -> None:
        v = self.view
        if not v.current:
            return
        st = v.stages[v.current]
        n = self.stages.index(v.current) + 1 if v.current in self.stages else 1
        where = f"Stage {n} of {len(self.stages)}: {v.current}" if len(self.stages) > 1 \
            else f"Stage: {v.current}"
        parts = [f"{where} — epoch {st.epoch} of {st.epochs or '?'}, "
                 f"step {st.step} of {st.total or '?'}"]
        if st.s_per_step:
            parts.append(f"{st.s_per_step:.2f} s/step")
        if st.eta_s is not None and not st.finished:
            parts.append(f"{v.current} ETA {fmt_s(st.eta_s)}")
        if st.gpu_mem_gb:
            parts.append(f"GPU {st.gpu_mem_gb:.1f} GB")
        if st.resumed:
            parts.append(st.resumed)
        self.query_one("#train-stage", Static).update(" · ".join(parts))
        self.query_one("#train-relation", Static).update(v.relation(v.current))

    def _show_then(self, job) -> None:  # noqa: ANN001
        t = self.view.then
        waiting = t is not None and t.state == "waiting" and job.active and t.remaining_s > 0
        box = self.query_one("#train-then", Static)
        box.set_class(t is None, "-hidden")
        self.query_one("#train-cancel-then").set_class(not waiting, "-hidden")
        if t is None:
            return
        if waiting:
            box.update(f"Training is over: `{t.argv}` runs in {t.remaining_s:.0f} s — press c "
                       "or “Cancel the command” to stop it.")
        else:
            said = [ln for ln in self.view.logs if t.argv in ln][-1:]
            box.update(said[0] if said else f"`{t.argv}`: {t.state}")

    def _show_outcome(self, job) -> None:  # noqa: ANN001
        from engine.train.failure import explain

        outcome = self.query_one("#train-outcome", Static)
        cause = self.query_one("#train-cause", Static)
        if job.active:
            outcome.update("")
            cause.update("")
            return
        if job.state == "done":
            outcome.update(f"✔ {job.summary or self.view.result}")
            cause.update("")
        elif job.state == "cancelled":
            outcome.update("Stopped: the checkpoint is saved; Run resumes from it.")
            cause.update("")
        else:
            reason, hint = self.view.failed or (job.reason, job.hint)
            c = explain(reason, hint, tail_log(job.run_dir, 40))
            outcome.update("")
            cause.update(f"✘ {c.sentence}" + (f"\n  What to do: {c.fix}" if c.fix else ""))
