"""The server process the API tests talk to: ``gsv serve`` itself (``gsv_tui.cli.main``),
run as ``python -m tests.engine.serve.serve_child GATE_DIR -- <gsv serve args>``, with two
test-only additions:

* gates: a piece whose text contains ``gate<N>`` writes ``GATE_DIR/reached-<N>`` and waits
  for ``GATE_DIR/open-<N>`` before it is spoken, so a test holds synthesis exactly where it
  wants (the slowness lives here, not in the product);
* it stops by itself when the test's end of its stdin closes (the test ended or died), so
  no server outlives its test.
"""
from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

GATE_WAIT_S = 120  # a forgotten gate fails the test instead of hanging it


def install_gates(gate_dir: Path) -> None:
    import engine.synth.pipeline as pipeline

    # Every piece's text goes through phones_and_bert first (the reference text too, which
    # holds no gate), whichever function of the pipeline speaks it.
    real = pipeline.phones_and_bert

    def gated(voice, text, *args, **kwargs):
        m = re.search(r"gate(\d+)", text)
        if m:
            (gate_dir / f"reached-{m[1]}").write_text("")
            opened = gate_dir / f"open-{m[1]}"
            end = time.monotonic() + GATE_WAIT_S
            while not opened.exists():
                if time.monotonic() > end:
                    raise RuntimeError(f"gate {m[1]} was never opened")
                time.sleep(0.01)
        return real(voice, text, *args, **kwargs)

    pipeline.phones_and_bert = gated  # looked up at call time


def stop_when_stdin_closes() -> None:
    def watch() -> None:
        while sys.stdin.buffer.read(1):
            pass
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown
        time.sleep(10)
        os._exit(3)  # shutdown hung: go anyway

    threading.Thread(target=watch, daemon=True).start()


def main() -> int:
    gate_dir, sep, *args = sys.argv[1:]
    assert sep == "--"
    install_gates(Path(gate_dir))
    stop_when_stdin_closes()
    from gsv_tui.cli import main as gsv

    return gsv(["serve", *args])


if __name__ == "__main__":
    sys.exit(main())
