"""Decoding several pieces of one text as one GPT batch (engine.models.gpt.decode_batch).

On a GPU one decoding step of a few rows costs about what one row costs, so the pieces of a
text are decoded :data:`BATCH_MAX` at a time; on a CPU a batch costs the sum of its rows and
only delays the first piece, so ``auto`` batches on CUDA only (``on`` forces it anywhere:
the CPU tests use it). Each piece keeps its own seed (one generator per row), so a piece
gets the codes it gets alone, and re-rolling one piece changes only that piece.

:func:`prefetch` stores each piece's codes on the voice under (text, language, seed);
:func:`engine.synth.pipeline.speak_take` takes them from there instead of decoding again.
Only first takes are batched; back-check re-rolls (new seeds) decode one by one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from engine.events import Event
    from engine.synth.pipeline import Reference, SpeakOptions, Voice

MODES = ("auto", "on", "off")
BATCH_MAX = 8  # rows per batch: upstream's fast pipeline defaults to 20; 8 keeps a long
# text's first piece from waiting on many others while a GPU is already ~fully used


def enabled(mode: str, device: str, pieces: int) -> bool:
    if pieces < 2 or mode == "off":
        return False
    return mode == "on" or str(device).startswith("cuda")


def configure(voice: Voice, batch_pieces: str, cuda_graphs: bool) -> None:
    """Apply the request's GPU decoding knobs to a loaded voice."""
    voice.gpt_static = "auto" if cuda_graphs else "off"
    voice.batch_pieces = batch_pieces


def groups(indices: list[int], size: int = BATCH_MAX) -> list[list[int]]:
    return [indices[i:i + size] for i in range(0, len(indices), size)]


def prefetch(voice: Voice, ref: Reference, texts: list[str], language: str,
             seeds: list[int], opts: SpeakOptions) -> int:
    """Decode ``texts`` (seeds in the same order) as one batch; returns the rows batched
    (0 when nothing was: one piece, reference-free mode, or batching off here)."""
    from engine.models.gpt import decode_batch
    from engine.synth.pipeline import decode_options, phones_and_bert

    device = next(voice.gpt.parameters()).device
    if ref.codes is None or not enabled(voice.batch_pieces, device.type, len(texts)):
        return 0
    import torch

    inputs = [phones_and_bert(voice, t, language) for t in texts]
    phones = [torch.tensor(ref.phones + ids) for ids, _ in inputs]
    berts = [torch.cat([ref.bert, bert], dim=1) for _, bert in inputs]
    got = decode_batch(voice.gpt, phones, berts, ref.codes.view(-1),
                       decode_options(voice, opts, None), seeds=seeds)
    for text, seed, (ids, _), row in zip(texts, seeds, inputs, got.rows):
        voice.decoded[(text, language, seed)] = (ids, row)
    return len(texts)


def ahead(voice: Voice, ref: Reference, texts: list[str], todo: list[int], language: str,
          opts: SpeakOptions) -> Iterator[Event]:
    """Decode the next group of pieces (``todo``: indices into ``texts`` still to speak,
    in order) ahead of their turn, each with its first-take seed."""
    from engine.events import Log

    group = todo[:BATCH_MAX]
    n = prefetch(voice, ref, [texts[i] for i in group], language,
                 [opts.seed_for(i) for i in group], opts)
    if n:
        yield Log(f"Pieces {group[0] + 1}-{group[-1] + 1}: GPT codes decoded as one batch of {n}.")
