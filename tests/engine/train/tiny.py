"""A tiny trainable project for the training tests: a real project.toml and a 1A folder
(espeak-ng speech at 32 kHz, stand-in HuBERT features, phonemes from the v2 table, semantic
codes at 25 Hz), plus the train settings that make both stages tiny and CPU-only."""
from __future__ import annotations

import json
import random
from pathlib import Path

import soundfile as sf
import torch

from engine.project import create_project
from tests.helpers.speech import speak

SLUG = "tiny"
SENTENCES = ["Hello world, this is a test.", "The quick brown fox jumps over the dog.",
             "Speech synthesis on a small computer.", "Good morning to you all, my friends."]
PHONES = ["HH", "AH0", "L", "OW1", "W", "ER1", "D", "T", "S", "IY1", "N", "AA1", "K", "EH1", "M"]
TINY_GPT = {"embedding_dim": 16, "hidden_dim": 16, "head": 2, "linear_units": 32, "n_layer": 1}


def tiny_sovits() -> dict:
    from engine.models.sovits.config import tiny_config

    return {"pretrained_g": "", "pretrained_d": "", "model_config": tiny_config().to_dict(),
            "disc_width": 16, "min_items_per_epoch": 0, "save_every_epoch": 1, "threads": 1,
            "learning_rate": 2e-3, "log_every": 1}


def tiny_gpt() -> dict:
    return {"pretrained": "", "model": TINY_GPT, "save_every": 1, "max_sec": 20, "accumulate": 1}


def make_project(root: Path, n: int = 4, seed: int = 0) -> Path:
    """The project folder with a formatted data set of ``n`` clips (the longest is the last)."""
    create_project(root, "Tiny voice", language="en", slug=SLUG)
    exp = root / "logs" / SLUG
    for sub in ("4-cnhubert", "5-wav32k", "3-bert"):
        (exp / sub).mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    text, sem = [], ["item_name\tsemantic_audio"]
    for i in range(n):
        name = f"clip_{i:02d}.wav"
        wav = speak(SENTENCES[i % len(SENTENCES)], exp / "5-wav32k" / name, speed=175 - 10 * i)
        frames = sf.info(str(wav)).frames // 640
        torch.save(torch.randn(1, 768, frames - 1, generator=g), exp / "4-cnhubert" / f"{name}.pt")
        codes = [rng.randrange(1024) for _ in range(frames // 2)]  # 25 Hz
        count = max(8, int(len(codes) / 25 * 8))  # ~8 phonemes per second
        phones = [rng.choice(PHONES) for _ in range(count)]
        text.append(f"{name}\t{' '.join(phones)}\tNone\t{SENTENCES[i % len(SENTENCES)]}")
        sem.append(f"{name}\t{' '.join(map(str, codes))}")
    (exp / "2-name2text.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
    (exp / "6-name2semantic.tsv").write_text("\n".join(sem) + "\n", encoding="utf-8")
    return root


def train_args(sovits_epochs: int = 2, gpt_epochs: int = 2, batch: int = 2, gpt_batch: int = 8,
               **sovits) -> list[str]:
    """`gsv train` flags for a tiny CPU run."""
    return ["--device", "cpu", "--offline", "--sovits-epochs", str(sovits_epochs),
            "--gpt-epochs", str(gpt_epochs), "--sovits-batch-size", str(batch),
            "--gpt-batch-size", str(gpt_batch), "--sovits-json", json.dumps({**tiny_sovits(), **sovits}),
            "--gpt-json", json.dumps(tiny_gpt())]


def train_overrides(sovits_epochs: int = 2, gpt_epochs: int = 2, batch: int = 2,
                    gpt_batch: int = 8) -> dict:
    """A tiny run: 2 SoVITS steps an epoch; GPT's 4 clips repeated to 100 items, 13 batches."""
    return {"device": "cpu", "allow_download": False, "sovits_epochs": sovits_epochs,
            "gpt_epochs": gpt_epochs, "sovits_batch_size": batch, "gpt_batch_size": gpt_batch}


def train_inputs(**sovits) -> dict:
    return {"sovits": {**tiny_sovits(), **sovits}, "gpt": tiny_gpt()}
