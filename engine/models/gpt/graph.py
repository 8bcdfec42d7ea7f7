"""The static decoding step captured as CUDA graphs, one per attention window.

A decoding step of the full-size GPT launches ~400 small kernels for one row; on a GPU the
launches, not the arithmetic, set the pace. A captured graph replays them all with one
launch. Graphs record device addresses, so the step's buffers (KV cache, inputs, logits)
must outlive them: a :class:`Runner` owns one :class:`StaticStep` and its graphs, and is
kept on the model (per batch size, cache dtype and precision) so the pieces of one text
reuse the captures. A runner is rebuilt when a parameter or the position table is replaced
(their addresses are baked into the graphs) or when a longer cache is needed.

Capture follows torch's recipe: warm the step up on a side stream (cuBLAS picks its
kernels and workspaces), then record it into a graph pool shared by the runner's graphs
(they never run at the same time). Warm-up and capture run the real step with the real
inputs already set; writing the same key/value into the same slot again changes nothing.
If capture fails (an old driver, a kernel that refuses capture) the runner says so once and
runs the same static step eagerly.
"""
from __future__ import annotations

import threading
import warnings
import weakref
from typing import TYPE_CHECKING

import torch

from engine.models.gpt.model import Text2Semantic
from engine.models.gpt.static_step import StaticStep, capacity_for

if TYPE_CHECKING:  # pragma: no cover
    from engine.models.gpt.precision import Matmuls

WARMUP_RUNS = 2
# One capture at a time in the process (gsv serve runs a worker thread per voice); capture
# errors are thread-local so another voice's kernels on the same card do not break it.
_CAPTURE_LOCK = threading.Lock()
KEEP_RUNNERS = 3  # per model (batch of 8, the last smaller batch, one row for re-rolls);
# each holds a KV cache: full size, fp32, 1792 slots: 176 MB per row


class Runner:
    def __init__(self, model: Text2Semantic, batch: int, capacity: int,
                 cache_dtype: torch.dtype, mm: Matmuls | None, graphs: bool) -> None:
        self.step = StaticStep(model, batch, capacity, cache_dtype=cache_dtype, mm=mm)
        self.use_graphs = graphs
        self.graphs: dict[int, torch.cuda.CUDAGraph] = {}
        self.pool = None
        self.fingerprint = _fingerprint(model)
        self.captures = 0  # graphs recorded (bench and tests read it)

    def run(self, window: int) -> torch.Tensor:
        if not self.use_graphs:
            return self.step(window)
        g = self.graphs.get(window)
        if g is None:
            g = self._capture(window)
            if g is None:
                return self.step(window)
        g.replay()
        return self.step.logits

    def _capture(self, window: int) -> torch.cuda.CUDAGraph | None:
        with _CAPTURE_LOCK:
            try:
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    for _ in range(WARMUP_RUNS):
                        self.step(window)
                torch.cuda.current_stream().wait_stream(side)
                if self.pool is None:
                    self.pool = torch.cuda.graph_pool_handle()
                g = torch.cuda.CUDAGraph()
                with torch.cuda.graph(g, pool=self.pool, capture_error_mode="thread_local"):
                    self.step(window)
            except RuntimeError as e:  # decode on without graphs rather than fail the speech
                warnings.warn(f"CUDA graph capture failed ({e}); decoding without graphs",
                              RuntimeWarning, stacklevel=2)
                self.use_graphs = False
                return None
        self.graphs[window] = g
        self.captures += 1
        return g


def _fingerprint(model: Text2Semantic) -> tuple:
    from engine.models.gpt.precision import _fingerprint as params

    return params(model), model.ar_audio_position.pe.data_ptr()


_RUNNERS: weakref.WeakKeyDictionary[Text2Semantic, dict[tuple, Runner]] = \
    weakref.WeakKeyDictionary()


def runner_for(model: Text2Semantic, batch: int, length: int, cache_dtype: torch.dtype,
               mm: Matmuls | None, precision: str, *, graphs: bool) -> Runner:
    """A runner whose cache holds ``length`` slots. Graph runners are kept on the model and
    reused; eager ones (CPU, tests) are built per decode (nothing to amortise)."""
    if not graphs:
        return Runner(model, batch, capacity_for(length), cache_dtype, mm, False)
    store = _RUNNERS.setdefault(model, {})
    key = (batch, cache_dtype, precision)
    r = store.get(key)
    if r is None or r.step.capacity < length or r.fingerprint != _fingerprint(model) \
            or r.step.mm is not mm:
        store.pop(key, None)
        while len(store) >= KEEP_RUNNERS:  # the oldest goes first (dicts keep order)
            store.pop(next(iter(store)))
        r = Runner(model, batch, capacity_for(length), cache_dtype, mm, True)
    store[key] = store.pop(key, r)  # most recently used last
    return r
