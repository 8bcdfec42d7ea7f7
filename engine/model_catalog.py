"""Every model the wizard can fetch, by a short name: ASR models, the BERT and HuBERT
feature extractors, and the GPT-SoVITS pretrained bases. ``gsv models`` lists and fetches
them through engine.hub (Hugging Face or ModelScope, mirrors honoured, resumable)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from engine.events import Event, Result, StepError
from engine.hub import ModelSpec


def catalog() -> dict[str, ModelSpec]:
    from engine.asr import models as asr
    from engine.dataset.format.models import BERT_SPEC, HUBERT_SPEC
    from engine.train.pretrained import GPT_BASE, SOVITS_BASE

    out: dict[str, ModelSpec] = {}
    for name in asr._WHISPER_REPOS:
        out[f"whisper-{name}"] = asr.whisper_spec(name)
    for name in asr._FUNASR_REPOS:
        out[f"funasr-{name}"] = asr.funasr_spec(name)
    out["bert-zh"] = BERT_SPEC
    out["hubert-zh"] = HUBERT_SPEC
    from engine.hub import PRETRAINED

    for version in ("v2ProPlus", "v2Pro", "v2", "v1"):
        out[f"sovits-base-{version}"] = SOVITS_BASE[version]
    for version in ("v2", "v1"):
        out[f"gpt-base-{version}"] = GPT_BASE[version]
    # v2Pro and v2ProPlus share one GPT base (s1v3.ckpt) and the speaker model (sv/): one
    # name each, so the listing shows every file once
    out["gpt-base-s1v3"] = PRETRAINED["s1v3"]
    out["speaker-sv"] = PRETRAINED["sv"]
    # UVR5 separation models the Clean step runs (engine/audio/separation/catalog.py); those
    # whose licence we could not check are listed by `gsv models` but fetched by hand
    from engine.audio.separation.catalog import SEPARATION

    for m in SEPARATION:
        if m.fetch is not None:
            out[m.name] = m.fetch
    return out


@dataclass
class DownloadRequest:
    name: str


def run_download(req: DownloadRequest) -> Iterator[Event]:
    from engine.hub import ensure_model

    specs = catalog()
    from engine.audio.separation.catalog import by_name

    manual = by_name().get(req.name)
    if manual is not None and manual.fetch is None:
        raise StepError(f"{req.name} is fetched by hand ({manual.licence}).",
                        f"Get {', '.join(manual.files)} from {manual.where} and put them in "
                        "the models folder's uvr5/.")
    if req.name not in specs:
        raise StepError(f"No model called {req.name!r}.",
                        "Run `gsv models` for the names: " + ", ".join(sorted(specs)))
    folder = yield from ensure_model(specs[req.name], step="download")
    yield Result(f"{req.name} is ready in {folder}", {"folder": str(folder)})
