"""GPT v2 text-to-semantic model, weight-compatible with upstream GPT-SoVITS.

Public interface (import from here; torch is imported on first use of these names):

* ``load_gpt(path, device="cpu", dtype=float32) -> GptWeights`` (``.model``, ``.config``,
  ``.full_config``, ``.info``): upstream small weights, pretrained bases or Lightning
  checkpoints, read with ``weights_only=True``; other files raise ``StepError``.
* ``export_gpt(model, out_dir, slug, epoch, config=None) -> Path``: ``<slug>-e<E>.ckpt`` in
  upstream's layout (fp16 ``model.*`` weights, config, ``GPT-e<E>``), written atomically.
* ``decode(model, phones[1,P], bert[1,1024,P], prompt[1,T] | None, DecodeOptions) ->
  DecodeResult``: KV-cached decoding with upstream's sampling order and stop rules; new
  tokens only. ``decode_batch(model, [phones], [bert], prompt[T], opts) -> BatchResult``
  decodes several pieces together (upstream's batch-infer).
* ``Sampling(top_k, top_p, temperature, repetition_penalty)``, ``DecodeOptions(sampling,
  max_new_tokens=1500, early_stop=-1, min_steps_before_eos=11, seed=None,
  precision="model")``; ``precision="bf16"`` or ``"int8"`` (CPU) decodes faster with
  lower-precision matmuls whose tokens may drift from upstream's (``precision.py``).
  ``static="auto"`` decodes with fixed-shape steps replayed as CUDA graphs on a CUDA device
  (``static_step.py``, ``graph.py``; same greedy tokens), the exact loop elsewhere; "off",
  "static" (fixed shapes without graphs, any device) and "graph" force one.
* ``Text2Semantic(GptConfig)``, ``GptConfig``, ``upstream_config``, ``weights_name``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from engine.models.gpt.batch import BatchResult, decode_batch
    from engine.models.gpt.config import GptConfig, upstream_config
    from engine.models.gpt.decoding import DecodeOptions, DecodeResult, decode
    from engine.models.gpt.model import KVCache, Text2Semantic
    from engine.models.gpt.sampling import Sampling
    from engine.models.gpt.weights import GptWeights, export_gpt, load_gpt, weights_name

_LAZY = {
    "BatchResult": "batch", "decode_batch": "batch", "GptConfig": "config",
    "upstream_config": "config", "DecodeOptions": "decoding", "DecodeResult": "decoding",
    "decode": "decoding", "KVCache": "model", "Text2Semantic": "model", "Sampling": "sampling",
    "GptWeights": "weights", "export_gpt": "weights", "load_gpt": "weights",
    "weights_name": "weights",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"engine.models.gpt.{_LAZY[name]}"), name)
    raise AttributeError(name)
