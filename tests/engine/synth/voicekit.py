"""A trained-looking project built from scratch for the synthesize tests: tiny random GPT and
SoVITS models written through the real export functions (two epochs each), a proofread
.list whose clips espeak-ng speaks, and the tiny BERT/HuBERT folders installed where the
hub looks. Plain functions, so the TUI tests reuse them."""
from __future__ import annotations

import shutil
from pathlib import Path

SLUG = "voice"
EN_REF = ("audio/slices/en_ref.wav", "EN",
          "Good morning everyone, this is the reference clip for the voice we trained.")
ZH_REF = ("audio/slices/zh_ref.wav", "ZH", "你好，世界！今天天气很不错，我们去公园吧。")
SHORT = ("audio/slices/short.wav", "EN", "Hi.")
GPT_MAX_SEC = 1  # early stop after 50 tokens: a random GPT rambles otherwise


def tiny_gpt_config():
    from engine.models.gpt import GptConfig

    return GptConfig(embedding_dim=16, hidden_dim=16, head=2, linear_units=64, n_layer=1)


def build_template(root: Path) -> Path:
    """A project at ``root`` with GPT e1/e2, SoVITS e1/e2 and three proofread clips."""
    import torch

    from engine.models.gpt import Text2Semantic, export_gpt, upstream_config
    from engine.models.sovits import export_sovits
    from engine.models.sovits.config import tiny_config
    from engine.models.sovits.synthesizer import Synthesizer
    from engine.project import create_project
    from tests.helpers.speech import speak

    p = create_project(root, "Voice", language="en")
    layout = p.layout
    cfg = tiny_gpt_config()
    for epoch in (1, 2):
        torch.manual_seed(epoch)
        gpt = Text2Semantic(cfg)
        export_gpt(gpt, layout.gpt_weights_dir, SLUG, epoch,
                   upstream_config(cfg, exp_name=SLUG, max_sec=GPT_MAX_SEC))
        sovits = Synthesizer(tiny_config()).eval()
        export_sovits(sovits, layout.sovits_weights_dir, SLUG, epoch, 10 * epoch)
    rows = []
    for (wav, lang, text), voice in ((EN_REF, "en"), (ZH_REF, "cmn"), (SHORT, "en")):
        speak(text, root / wav, voice=voice)
        rows.append(f"{wav}|{SLUG}|{lang}|{text}")
    layout.list_file.parent.mkdir(parents=True, exist_ok=True)
    layout.list_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def copy_project(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest


def install_models(bert_dir: Path, hubert_dir: Path) -> None:
    """Put the tiny BERT/HuBERT where the hub finds them (under this test's GSV_HOME)."""
    from engine.dataset.format.models import BERT_SPEC, HUBERT_SPEC
    from engine.hub import default_dir

    for spec, src in ((BERT_SPEC, bert_dir), (HUBERT_SPEC, hubert_dir)):
        dest = default_dir(spec)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            dest.symlink_to(src, target_is_directory=True)
