"""Detached jobs: long steps run in their own process session, so quitting the TUI, killing
it, or a dropped SSH connection (SIGHUP) never stops them. Each run has a folder
``runs/<step>/<id>/`` with ``request.json``, ``events.jsonl``, ``status.json`` and ``log.txt``."""
from engine.jobs.control import cancel, submit, wait
from engine.jobs.store import ACTIVE_STATES, JobInfo, list_jobs, load_job, read_events, tail_log

__all__ = ["ACTIVE_STATES", "JobInfo", "cancel", "list_jobs", "load_job", "read_events",
           "submit", "tail_log", "wait"]
