"""Test-only child process: GPT training that stops dead in the middle of its Nth training
state save, so the parent can kill -9 it there. Never imported by the product.

usage: python -m tests.engine.gpt.slow_save PROJECT_ROOT EPOCHS N

The stall is in ``os.fsync`` of the Nth file written into the state folder: its bytes are
in the temp file, the rename has not happened. "MIDWRITE" is printed, then the process
waits to be killed.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from engine.train.gpt.state import state_dir
from engine.train.gpt.trainer import run_gpt_training
from tests.engine.gpt.test_checkpoint_faults import request


def main() -> None:
    root, epochs, nth = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    folder = state_dir(root / "logs" / "voice", "v2").resolve()
    real_fsync, seen = os.fsync, []

    def slow_fsync(fd: int) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if path.parent == folder and path.is_file():
            seen.append(path)
            if len(seen) == nth:
                print("MIDWRITE", path.name, flush=True)
                sys.stdin.readline()  # killed here
                raise SystemExit(3)
        real_fsync(fd)

    os.fsync = slow_fsync
    for _ in run_gpt_training(request(root, epochs=epochs)):
        pass
    print("FINISHED", flush=True)


if __name__ == "__main__":
    main()
