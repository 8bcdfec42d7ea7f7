"""Batches for a training epoch, loaded in worker processes when the runtime says so (on a
GPU: decoding wavs and computing spectrograms while the card runs the previous step),
pinned for an asynchronous copy, and in the epoch's fixed order either way, so a resumed
run, a single-process run and a worker-fed run see the same batches."""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

from engine.train.runtime import Runtime


class _Rows:
    """A dataset view that returns a whole batch's items for one list of indices."""

    def __init__(self, dataset: Any, batches: Sequence[Sequence[int]],
                 collate: Callable[[list[Any]], Any]) -> None:
        self.dataset, self.batches, self.collate = dataset, batches, collate

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> Any:
        return self.collate([self.dataset[j] for j in self.batches[i]])


def _first(batch: list[Any]) -> Any:  # the DataLoader wraps each item in a list of one
    return batch[0]


def epoch_loader(dataset: Any, batches: Sequence[Sequence[int]], collate: Callable[[list[Any]], Any],
                 rt: Runtime, start: int = 0) -> Iterator[Any]:
    """Yield ``collate(items of batches[k])`` for k = start, start+1, … in order."""
    rows = _Rows(dataset, batches[start:], collate)
    if rt.workers == 0:
        for i in range(len(rows)):
            yield rows[i]
        return
    import torch.utils.data as tud

    loader = tud.DataLoader(rows, batch_size=1, shuffle=False, collate_fn=_first,
                            num_workers=rt.workers, pin_memory=rt.pin_memory,
                            prefetch_factor=2, persistent_workers=False)
    yield from loader


def to_device(batch: Any, device, non_blocking: bool = False) -> Any:  # noqa: ANN001
    """Move a dict/tuple/list of tensors to ``device`` (non_blocking from pinned memory)."""
    if hasattr(batch, "to") and not isinstance(batch, (dict, list, tuple)):
        return batch.to(device, non_blocking=non_blocking)
    if isinstance(batch, dict):
        return {k: to_device(v, device, non_blocking) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device, non_blocking) for v in batch)
    return batch
