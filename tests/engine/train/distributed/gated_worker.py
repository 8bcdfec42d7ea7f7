"""Test-only torchrun worker (never imported by the product): the real
``engine.train.distributed`` worker, except that on rank R, before its training step N
(SoVITS steps or GPT batches, counted in this process), it writes ``<gate>/at-N`` holding
its pid and waits until ``<gate>/go`` exists, so a test can signal or kill that rank while
it is known to be mid-run. The launcher starts it when ``GSV_TRAIN_WORKER`` names this
module; ``GSV_TEST_GATE=<dir>:<R>:<N>``."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def install() -> None:
    where, rank, n = os.environ["GSV_TEST_GATE"].rsplit(":", 2)
    if int(os.environ.get("RANK", "0")) != int(rank):
        return
    gate, at, calls = Path(where), int(n), [0]

    def wait() -> None:
        calls[0] += 1
        if calls[0] != at:
            return
        tmp = gate / f".at-{at}.tmp"
        tmp.write_text(str(os.getpid()))
        os.replace(tmp, gate / f"at-{at}")  # whole, or not there
        while not (gate / "go").exists():
            time.sleep(0.01)

    from engine.train.gpt import trainer
    from engine.train.sovits import loop

    real_step, real_loss = loop._train_step, trainer._batch_loss

    def step(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        wait()
        return real_step(*args, **kwargs)

    def loss(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        wait()
        return real_loss(*args, **kwargs)

    loop._train_step, trainer._batch_loss = step, loss


if __name__ == "__main__":
    install()
    from engine.train.distributed import main

    rc = main(sys.argv[1])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
