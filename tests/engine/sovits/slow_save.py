"""Test-only child process: SoVITS training with one checkpoint write stalled half-way, so
the parent can kill -9 it *during* the save. Never imported by the product.

usage: python -m tests.engine.sovits.slow_save REQUEST_JSON KIND STEP

While the KIND ("G" or "D") training checkpoint of global step STEP is written, the first
half of its bytes reach the file, "MIDWRITE" is printed, and the process waits to be killed.
Which checkpoint is which is judged from what is saved (the model's keys and the step in its
gsv block), not from how the product names or writes files.
"""
from __future__ import annotations

import io
import json
import sys

import torch

from engine.train.sovits.loop import run_sovits_training
from engine.train.sovits.request import SovitsTrainRequest

_real_save = torch.save


def _kind(obj) -> tuple[str, int]:
    if not isinstance(obj, dict) or not isinstance(obj.get("model"), dict):
        return "", -1
    gsv = obj.get("gsv") if isinstance(obj.get("gsv"), dict) else {}
    keys = list(obj["model"])
    kind = "D" if keys and all(k.startswith("discriminators.") for k in keys) else "G"
    return kind, int(gsv.get("step", -1))


def main() -> None:
    req = SovitsTrainRequest(**json.loads(sys.argv[1]))
    want = (sys.argv[2], int(sys.argv[3]))

    def slow_save(obj, f, *args, **kwargs):
        if _kind(obj) != want or isinstance(f, (str, bytes, io.BytesIO)) or not hasattr(f, "write"):
            return _real_save(obj, f, *args, **kwargs)
        buf = io.BytesIO()
        _real_save(obj, buf, *args, **kwargs)
        data = buf.getvalue()
        f.write(data[: len(data) // 2])
        f.flush()
        print("MIDWRITE", len(data), flush=True)
        sys.stdin.readline()  # the parent kills us here; EOF (parent gone) also ends the wait
        raise SystemExit(3)

    torch.save = slow_save
    for _ in run_sovits_training(req):
        pass
    print("FINISHED", flush=True)


if __name__ == "__main__":
    main()
