"""A long-text reading in a child process that stops dead before the record of piece
``K`` is written (its wav is already there): it writes a handshake file and waits to be
killed with SIGKILL. Usage: python -m tests.engine.synth.longtext_child REQUEST.json K HANDSHAKE"""
from __future__ import annotations

import json
import sys
import threading
from pathlib import Path


def main(request_json: str, k: int, handshake: str) -> None:
    import torch

    torch.set_num_threads(1)  # the parent reads with one thread: the same samples
    from engine.synth import longtext
    from engine.synth.request import ReadRequest

    real = longtext.write_record

    def write_record(folder, g, record):
        if g == k:
            Path(handshake).write_text(str(g))
            threading.Event().wait()  # until SIGKILL
        real(folder, g, record)

    longtext.write_record = write_record
    req = ReadRequest(**json.loads(Path(request_json).read_text(encoding="utf-8")))
    for ev in longtext.run_read(req):
        print(ev, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
