"""Watches the open project's job run folders and forwards their events as messages.

It lives on the App, so leaving a step's pane (or screen) never stops watching — and since
jobs are separate processes, quitting the App never stops the jobs."""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from engine import jobs
from engine.events import Progress
from gsv_tui.messages import JobUpdate

if TYPE_CHECKING:
    from gsv_tui.app import GsvApp

RESCAN_S = 2.0


class JobMonitor:
    def __init__(self, app: "GsvApp") -> None:
        self.app = app
        self.root: Path | None = None
        self.offsets: dict[Path, int] = {}
        self.watching: dict[Path, jobs.JobInfo] = {}
        self.latest: dict[str, jobs.JobInfo] = {}  # step -> newest job
        self._last_scan = 0.0

    def open(self, root: Path) -> None:
        """Re-attach: pick up every job of the project, running or finished, newest per step."""
        self.root = root
        self.offsets.clear()
        self.watching.clear()
        self.latest.clear()
        self._scan(replay=True)

    def watch(self, job: jobs.JobInfo) -> None:
        self.offsets.setdefault(job.run_dir, 0)
        self.watching[job.run_dir] = job
        self.latest[job.step] = job

    def _scan(self, replay: bool = False) -> None:
        self._last_scan = time.monotonic()
        if self.root is None:
            return
        for job in jobs.list_jobs(self.root):
            newest = self.latest.get(job.step)
            if newest is None or job.started > newest.started:
                self.latest[job.step] = job
            if job.active or (replay and self.latest[job.step] is job):
                if job.run_dir not in self.watching:
                    self.watch(job)

    def poll(self) -> None:
        """Called on a timer: forward new events; drop jobs once they end and are drained."""
        if self.root is None:
            return
        if time.monotonic() - self._last_scan > RESCAN_S:
            self._scan()
        for run_dir, _ in list(self.watching.items()):
            events, self.offsets[run_dir] = jobs.read_events(run_dir, self.offsets[run_dir])
            job = jobs.load_job(run_dir)
            self.watching[run_dir] = job
            if self.latest.get(job.step) is None or self.latest[job.step].run_dir == run_dir:
                self.latest[job.step] = job
            if events or not job.active:
                # Only the newest progress matters; logs and results all go through.
                evs = [e for _, e in events]
                progress = [e for e in evs if isinstance(e, Progress)]
                kept = [e for e in evs if not isinstance(e, Progress)] + progress[-1:]
                self.app.deliver(JobUpdate(job, kept))
            if not job.active:
                del self.watching[run_dir]
                self.app.refresh_statuses()

    def active(self) -> list[jobs.JobInfo]:
        return [j for j in self.watching.values() if j.active]
