"""SoVITS v1/v2/v2Pro/v2ProPlus (the semantic-tokens -> 32 kHz speech stage), weight-compatible
with upstream. Pro models also take each reference's 20480-d speaker embedding.

Public interface (import from here; torch is imported on first use of these modules):

* ``load_sovits(path, device="cpu", expect_version=None, precision="fp32") -> Synthesizer`` —
  any v1/v2/v2Pro/v2ProPlus SoVITS file (exported weights, official s2G base, training G
  checkpoint), eval mode; ``precision="bf16"`` = faster generator on AMX CPUs / GPUs (~2-3% RMS difference).
  Refuses other files with ``SovitsFileError`` (a ``StepError``: reason + hint).
* ``ssl_to_codes(model, ssl) -> LongTensor`` — HuBERT features (1, 768, T) at 50 Hz ->
  semantic codes (T // 2,) at 25 Hz (upstream's ``extract_latent(...)[0, 0]``), what
  ``6-name2semantic.tsv`` stores space-separated.
* ``reference_spec(wav_32k) -> Tensor`` — a reference waveform (float, 32 kHz, [-1, 1]) ->
  linear spectrogram (1, 1025, T) as upstream computes it for inference.
* ``synthesize(model, codes, phone_ids, refs, noise_scale=0.5, speed=1.0, sv_embs=None)`` —
  codes (T,) + target-text phoneme ids (P,) + one or more reference spectrograms (+ for Pro
  each reference's speaker embedding) ->
  float32 mono audio at 32 kHz, length 2 * T * 640 samples at speed 1.
* ``export_sovits(model, out_dir, slug, epoch, step) -> Path`` — upstream-format weights
  (Pro: with upstream's ``05``/``06`` header).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from engine.models.sovits.api import reference_spec, ssl_to_codes, synthesize
    from engine.models.sovits.checkpoint import (SovitsFileError, export_sovits, load_sovits,
                                                 read_sovits_file)

_LAZY = {
    "load_sovits": "checkpoint", "read_sovits_file": "checkpoint", "export_sovits": "checkpoint",
    "SovitsFileError": "checkpoint", "ssl_to_codes": "api", "synthesize": "api",
    "reference_spec": "api",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"engine.models.sovits.{_LAZY[name]}"), name)
    raise AttributeError(name)
