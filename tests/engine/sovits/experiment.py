"""Builds a tiny upstream-layout 1A experiment folder from espeak-ng speech: 2-name2text.txt,
4-cnhubert/*.pt (1, 768, T) stand-in features, 5-wav32k/*.wav, 6-name2semantic.tsv."""
from __future__ import annotations

from pathlib import Path

import soundfile as sf
import torch

from tests.helpers.speech import speak

SENTENCES = [
    "Hello world, this is a test.",
    "The quick brown fox jumps.",
    "Speech synthesis on a small computer.",
    "Good morning to you all.",
    "We are training a tiny voice.",
    "One more sentence for the model.",
]
PHONES = ["HH", "AH0", "L", "OW1", "W", "ER1", "D", "T", "S", "IY1", "N", "AA1", "K", "EH1", "M"]


def build_experiment(exp_dir: Path, n: int = 4, seed: int = 0) -> list[str]:
    exp_dir.mkdir(parents=True, exist_ok=True)
    (exp_dir / "4-cnhubert").mkdir(exist_ok=True)
    (exp_dir / "5-wav32k").mkdir(exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    names, text_lines = [], []
    for i in range(n):
        name = f"clip_{i:02d}.wav"
        wav_path = speak(SENTENCES[i % len(SENTENCES)], exp_dir / "5-wav32k" / name, speed=170)
        frames = sf.info(str(wav_path)).frames // 640
        # HuBERT yields one frame fewer than the spectrogram; random stand-in features
        ssl = torch.randn(1, 768, frames - 1, generator=g)
        torch.save(ssl, exp_dir / "4-cnhubert" / f"{name}.pt")
        k = 6 + i
        phones = [PHONES[int(j)] for j in torch.randint(0, len(PHONES), (k,), generator=g)]
        text_lines.append(f"{name}\t{' '.join(phones)}\tNone\t{SENTENCES[i % len(SENTENCES)]}")
        names.append(name)
    (exp_dir / "2-name2text.txt").write_text("\n".join(text_lines) + "\n", encoding="utf-8")
    return names


def write_semantic(exp_dir: Path, model) -> None:
    """6-name2semantic.tsv through the public interface the format step uses."""
    from engine.models.sovits import ssl_to_codes

    rows = ["item_name\tsemantic_audio"]
    for p in sorted((exp_dir / "4-cnhubert").glob("*.pt")):
        codes = ssl_to_codes(model, torch.load(p, weights_only=True))
        rows.append(f"{p.name[:-3]}\t{' '.join(map(str, codes.tolist()))}")
    (exp_dir / "6-name2semantic.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
