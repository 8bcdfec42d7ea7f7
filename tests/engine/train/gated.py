"""Test-only step functions for real detached training jobs (never imported by the product).

``run_train_gated``: the real Train step, but before SoVITS step N (global, 1-based) it writes
``<gate>/at-N`` and waits until ``<gate>/go`` exists, so a test can act (signal, look) while
the job is known to be mid-run. ``run_train_oom``: the real Train step whose SoVITS step N
raises torch's CUDA out-of-memory error (the message a GPU gives), as on a card too small.
Both read ``GSV_TEST_GATE=<dir>:<N>`` from the environment the job inherits.
``python -m tests.engine.train.gated ARGS…`` is `gsv ARGS…` with the same gate."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

OOM = ("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
       "23.65 GiB of which 1.19 GiB is free. Including non-PyTorch memory, this process has "
       "22.45 GiB memory in use.")


def _gate() -> tuple[Path, int]:
    where, _, n = os.environ["GSV_TEST_GATE"].rpartition(":")
    return Path(where), int(n)


def _patch(action) -> None:  # noqa: ANN001
    from engine.train.sovits import loop

    real, calls = loop._train_step, [0]

    def step(*args, **kwargs):
        calls[0] += 1
        action(calls[0])
        return real(*args, **kwargs)

    loop._train_step = step


def install_gate() -> None:
    gate, at = _gate()

    def wait(n: int) -> None:
        if n != at:
            return
        (gate / f"at-{n}").write_text(str(os.getpid()))
        while not (gate / "go").exists():
            time.sleep(0.01)

    _patch(wait)


def run_train_gated(req, stop=None):  # noqa: ANN001, ANN201
    from engine.train.step import run_train

    install_gate()
    return run_train(req, stop)


def run_train_oom(req, stop=None):  # noqa: ANN001, ANN201
    import torch

    from engine.train.step import run_train

    _, at = _gate()

    def boom(n: int) -> None:
        if n == at:
            raise torch.OutOfMemoryError(OOM)

    _patch(boom)
    return run_train(req, stop)


if __name__ == "__main__":
    install_gate()
    from gsv_tui.cli import main

    sys.exit(main(sys.argv[1:]))
