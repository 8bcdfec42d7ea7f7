"""Loading what a voice needs: the GPT and SoVITS weights, and (only when used) BERT for
Chinese text and HuBERT for the reference prompt, found or fetched through the hub."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Generator

from engine.events import Event, Log
from engine.layout import Layout
from engine.synth.pipeline import Voice

STEP = "synthesize"


def needs_bert(*languages: str) -> bool:
    """Chinese (or auto, which may find Chinese) text needs BERT features."""
    return any(lang in ("zh", "auto") for lang in languages)


def load_helpers(device: str, *, bert: bool, hubert: bool, bert_dir: str = "",
                 hubert_dir: str = "", allow_download: bool = True
                 ) -> Generator[Event, None, tuple[Any, Any]]:
    """BERT and HuBERT feature callables (None where not needed)."""
    from engine.dataset.format.models import (BERT_SPEC, HUBERT_SPEC, BertFeatures,
                                              HubertFeatures, weights_spec)
    from engine.hub import ensure_model

    b = h = None
    if bert:
        folder = yield from ensure_model(weights_spec(BERT_SPEC), bert_dir or None,
                                         allow_download=allow_download, step=STEP)
        b = BertFeatures(folder, device, False)
    if hubert:
        folder = yield from ensure_model(weights_spec(HUBERT_SPEC), hubert_dir or None,
                                         allow_download=allow_download, step=STEP)
        h = HubertFeatures(folder, device, False)
    return b, h


# precision setting -> (GPT decoding precision, SoVITS precision); "exact" matches upstream.
PRECISIONS = {"exact": ("model", "fp32"), "bf16": ("bf16", "bf16"), "int8": ("int8", "bf16")}


def load_voice(layout: Layout, version: str, gpt_path: Path, sovits_path: Path, device: str,
               bert: Any = None, hubert: Any = None,
               precision: str = "exact", *, allow_download: bool = True,
               sv_path: str = "") -> Generator[Event, None, Voice]:
    """The GPT and the SoVITS (refused with a sentence when it is not the project's
    ``version``); for v2Pro/v2ProPlus also the speaker model, its reference embeddings cached
    under the project (engine.synth.speaker)."""
    from engine.models.gpt import load_gpt
    from engine.models.sovits import load_sovits

    gpt = load_gpt(gpt_path, device=device)
    yield Log(f"GPT: {layout.rel(gpt_path)} ({gpt.info or 'no info'})")
    gpt_precision, sovits_precision = PRECISIONS[precision]
    if str(device).startswith("cuda"):
        gpt_precision, sovits_precision = "model", "fp32"  # the opt-in paths are CPU kernels
    sovits = load_sovits(sovits_path, device=device, precision=sovits_precision,
                         expect_version=version)
    yield Log(f"SoVITS: {layout.rel(sovits_path)}" +
              ("" if precision == "exact" else f" (precision {precision})"))
    speaker = None
    if sovits.cfg.is_pro:
        from engine.synth.speaker import load_reference_embeddings

        speaker = yield from load_reference_embeddings(device, layout.root, sv_path,
                                                       allow_download)
    max_sec = int(gpt.full_config.get("data", {}).get("max_sec", 54))
    return Voice(gpt.model, sovits, version, max_sec, bert, hubert, gpt_precision, speaker)
