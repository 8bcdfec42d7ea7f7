"""Messages the app passes between its parts. State changes travel as messages; no thread
ever touches a widget."""
from __future__ import annotations

from textual.message import Message

from engine.events import Event
from engine.jobs import JobInfo


class JobUpdate(Message):
    """New events from a job's run folder (sent to the pane of the job's step).

    Consecutive updates that carry only progress replace each other while queued, so a
    fast job never floods a slow terminal (toolong's coalescing)."""

    def __init__(self, job: JobInfo, events: list[Event], replay: bool = False) -> None:
        super().__init__()
        self.job = job
        self.events = events
        self.replay = replay

    def can_replace(self, message: Message) -> bool:
        from engine.events import Progress

        return (isinstance(message, JobUpdate) and message.job.run_dir == self.job.run_dir
                and message.job.active and self.job.active
                and all(isinstance(e, Progress) for e in message.events))
