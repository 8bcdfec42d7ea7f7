"""Proofreading: the clip edit model (pure functions with undo), its journal, and the session
that keeps the ``.list`` on disk in step with every edit."""
