"""Score a boundary-net variant (weights written by ``bench.fit_boundary_net --write --out
PATH``) through the slice plan: ``BOUNDARY_NET_WEIGHTS=PATH python -m bench.slice_benchmark
--scorer bench.net_variant:scorer --seeds 2 3 6 7`` (select variants on draws the results do
not report)."""
from __future__ import annotations

import functools
import importlib.util
import os

from engine.audio import boundary_net as bn


def load_module(path):
    """A weights file (``fit_boundary_net --write --out``) as a module."""
    spec = importlib.util.spec_from_file_location("boundary_net_variant", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=1)
def _weights() -> list[dict]:
    """Every net named in BOUNDARY_NET_WEIGHTS (paths joined by os.pathsep: an ensemble,
    their log-odds averaged)."""
    return [w for path in os.environ["BOUNDARY_NET_WEIGHTS"].split(os.pathsep)
            for w in bn.decode(load_module(path))]


def scorer(x, rms, f0, f1, hop, sr, rows=None):
    z = bn.answer(x, f0, f1, hop, sr, _weights())
    return z if rows is None else z[rows]


scorer.all_frames = bn.scorer.all_frames
# BOUNDARY_NET_OFF_VALLEY: another price for cuts off the energy valleys (nats)
scorer.off_valley = float(os.environ.get("BOUNDARY_NET_OFF_VALLEY", bn.scorer.off_valley))
