"""Waiting in Pilot tests: poll a condition between pauses instead of sleeping blindly."""
from __future__ import annotations

import time
from typing import Callable


async def until(pilot, cond: Callable[[], bool], timeout: float = 60.0, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(step)
        if cond():
            return
    raise AssertionError(f"condition not met within {timeout} s")
