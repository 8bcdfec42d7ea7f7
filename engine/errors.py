"""The project layer's user-facing error, in a module of its own so the lock helpers
(engine.filelock) can raise it without importing the project model."""
from __future__ import annotations

from pathlib import Path


class ProjectError(Exception):
    """A problem with a project folder or file, phrased for the user, with what to do."""

    def __init__(self, message: str, hint: str = "", backup: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.backup = backup

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message
