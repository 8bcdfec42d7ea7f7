"""The GPT training set from an upstream 1A experiment folder (spec §3.2, §6.2).

``2-name2text.txt`` (name, phones, word2ph, text) x ``6-name2semantic.tsv`` (name, codes),
BERT features from ``3-bert/<name>.pt`` (zeros when absent: non-Chinese lines). Filters and
padding follow upstream: drop clips over max_sec*25 codes or max_sec*10 phonemes or outside
3..25 phonemes per second; a set under 100 items is repeated max(2, 100 // n) times;
phonemes pad with 0, codes with 1024 (EOS), BERT with 0.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.events import StepError
from engine.train.distributed import SINGLE, Dist, share

HZ = 25  # semantic tokens per second
MIN_PS, MAX_PS = 3.0, 25.0  # phonemes per second accepted
MIN_ITEMS = 100


@dataclass(frozen=True)
class Item:
    name: str
    phones: list[int]
    codes: list[int]


@dataclass
class Batch:
    phones: torch.Tensor  # [B,P] int64, right-padded with 0
    phone_lens: torch.Tensor  # [B]
    codes: torch.Tensor  # [B,T] int64, right-padded with EOS
    code_lens: torch.Tensor  # [B]
    bert: torch.Tensor  # [B,1024,P]

    def to(self, device: torch.device) -> "Batch":
        return Batch(*(t.to(device) for t in (self.phones, self.phone_lens, self.codes,
                                               self.code_lens, self.bert)))


@dataclass(frozen=True)
class DataReport:
    usable: int
    missing_text: int
    too_long: int
    bad_rate: int
    unknown_phone: int


def read_items(exp_dir: Path, version: str, max_sec: int) -> tuple[list[Item], DataReport]:
    from engine.text.symbols import cleaned_text_to_sequence

    text_path, sem_path = exp_dir / "2-name2text.txt", exp_dir / "6-name2semantic.tsv"
    for p in (text_path, sem_path):
        if not p.is_file() or p.stat().st_size == 0:
            raise StepError(f"{p.name} is missing or empty in {exp_dir}.",
                            "Run the Format step first; it writes the 1A files GPT training reads.")
    phones_of: dict[str, str] = {}
    for line in text_path.read_text(encoding="utf-8").strip("\n").split("\n"):
        parts = line.split("\t")
        if len(parts) == 4:
            phones_of[parts[0]] = parts[1]
    rows = sem_path.read_text(encoding="utf-8").strip("\n").split("\n")[1:]  # header line
    items: list[Item] = []
    missing = too_long = bad_rate = unknown = 0
    for row in rows:
        name, _, codes_text = row.partition("\t")
        if name not in phones_of:
            missing += 1
            continue
        codes = [int(c) for c in codes_text.split()]
        if len(codes) > max_sec * HZ or not codes:
            too_long += 1
            continue
        try:
            phones = cleaned_text_to_sequence(phones_of[name].split(" "), version)
        except ValueError:
            unknown += 1
            continue
        if len(phones) > max_sec * HZ / 2.5:
            too_long += 1
            continue
        rate = len(phones) / (len(codes) / HZ)
        if not MIN_PS <= rate <= MAX_PS:
            bad_rate += 1
            continue
        items.append(Item(name, phones, codes))
    report = DataReport(len(items), missing, too_long, bad_rate, unknown)
    if not items:
        raise StepError(f"No usable clip in {exp_dir.name}: {missing} without text, {too_long} too "
                        f"long, {bad_rate} with an implausible speaking rate, {unknown} with "
                        f"unknown phonemes.",
                        "Check the transcripts in Proofread and run Format again.")
    if len(items) < MIN_ITEMS:  # upstream: small sets are repeated so an epoch has ~100 items
        items = items * max(2, MIN_ITEMS // len(items))
    return items, report


def effective_batch_size(requested: int, n_items: int, dpo: bool) -> int:
    """Upstream: min(batch_size, n // 4), at least 1; halved (not below 1) with DPO."""
    size = max(1, min(requested, n_items // 4))
    return max(1, size // 2) if dpo else size


def epoch_batches(items: list[Item], batch_size: int, seed: int, epoch: int,
                  dist: Dist = SINGLE) -> list[list[int]]:
    """Bucketed batches: shuffle, sort by length inside windows of 32 batches (similar
    lengths share a batch, little padding), then shuffle the batch order. Depends only on
    (seed, epoch), so a resumed run sees the same batches. Under several ranks a window
    holds 32 batches per rank and each rank takes its share of it (``distributed.share``);
    every rank shuffles alike, so the k-th batches of all ranks have similar lengths."""
    rng = random.Random(seed * 1000003 + epoch)
    order = list(range(len(items)))
    rng.shuffle(order)
    window = batch_size * 32 * dist.world
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: len(items[i].codes))
        chunk = share(chunk, dist)
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(items: list[Item], bert_dir: Path, eos: int) -> Batch:
    b = len(items)
    p_len = max(len(it.phones) for it in items)
    t_len = max(len(it.codes) for it in items)
    phones = torch.zeros(b, p_len, dtype=torch.long)
    codes = torch.full((b, t_len), eos, dtype=torch.long)
    bert = torch.zeros(b, 1024, p_len)
    for i, it in enumerate(items):
        phones[i, :len(it.phones)] = torch.tensor(it.phones)
        codes[i, :len(it.codes)] = torch.tensor(it.codes)
        path = bert_dir / f"{it.name}.pt"
        if path.is_file():
            feat = torch.load(path, map_location="cpu", weights_only=True)
            if feat.shape != (1024, len(it.phones)):
                raise StepError(f"3-bert/{path.name} has shape {tuple(feat.shape)}, expected "
                                f"(1024, {len(it.phones)}).",
                                "The 1A folder is out of date; run the Format step again.")
            bert[i, :, :len(it.phones)] = feat.float()
    return Batch(phones, torch.tensor([len(it.phones) for it in items]), codes,
                 torch.tensor([len(it.codes) for it in items]), bert)
