"""Builds a tiny synthetic upstream 1A experiment folder (spec §3.2) for training tests."""
from __future__ import annotations

import random
from pathlib import Path

import torch

from engine.text.symbols import symbols

TINY_MODEL = {"embedding_dim": 32, "hidden_dim": 32, "head": 2, "linear_units": 128,
              "n_layer": 2}


def make_1a(root: Path, slug: str = "voice", n: int = 8, seed: int = 0,
            bert_for: int = 3) -> Path:
    """n utterances whose codes follow from their phonemes (learnable), BERT for a few."""
    rng = random.Random(seed)
    table = [s for s in symbols("v2") if s.isalpha()][:40]
    exp = root / "logs" / slug
    (exp / "3-bert").mkdir(parents=True)
    text_lines, sem_lines = [], ["item_name\tsemantic_audio"]
    for i in range(n):
        count = rng.randint(6, 12)
        ph = [rng.randrange(len(table)) for _ in range(count)]
        codes = [(p * 7 + k) % 24 for p in ph for k in range(3)]  # ~3 codes per phoneme
        name = f"clip_{i:03d}.wav"
        text_lines.append(f"{name}\t{' '.join(table[p] for p in ph)}\tNone\ttext {i}")
        sem_lines.append(f"{name}\t{' '.join(map(str, codes))}")
        if i < bert_for:
            torch.save(torch.randn(1024, count) * 0.1, exp / "3-bert" / f"{name}.pt")
    (exp / "2-name2text.txt").write_text("\n".join(text_lines) + "\n", encoding="utf-8")
    (exp / "6-name2semantic.tsv").write_text("\n".join(sem_lines) + "\n", encoding="utf-8")
    return exp
