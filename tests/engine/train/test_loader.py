"""Worker-fed epochs (engine/train/loader.py) give the same batches, in the same order, as
in-process loading, from a resume point too, and really load in other processes."""
from __future__ import annotations

import os

import torch

from engine.train.loader import epoch_loader, to_device
from engine.train.runtime import Runtime


class Items:
    def __len__(self) -> int:
        return 10

    def __getitem__(self, i: int) -> dict:
        return {"x": torch.full((3,), float(i)), "pid": os.getpid()}


def collate(items: list[dict]) -> dict:
    return {"x": torch.stack([it["x"] for it in items]),
            "pids": torch.tensor([it["pid"] for it in items])}


def rt(workers: int) -> Runtime:
    return Runtime(amp="off", tf32=False, grad_checkpoint=False, workers=workers,
                   pin_memory=False, notes=())


BATCHES = [[3, 1], [0, 9, 8], [2], [7, 6, 5, 4]]


def test_worker_processes_load_the_same_batches_in_order_from_a_resume_point():
    plain = list(epoch_loader(Items(), BATCHES, collate, rt(0), start=1))
    fed = list(epoch_loader(Items(), BATCHES, collate, rt(2), start=1))
    assert [b["x"][:, 0].tolist() for b in plain] == [[0, 9, 8], [2], [7, 6, 5, 4]]
    assert [b["x"].tolist() for b in fed] == [b["x"].tolist() for b in plain]
    assert {int(p) for b in plain for p in b["pids"]} == {os.getpid()}
    assert os.getpid() not in {int(p) for b in fed for p in b["pids"]}


def test_to_device_moves_nested_batches():
    b = to_device({"a": torch.ones(2), "b": [torch.zeros(1)], "n": 3}, torch.device("cpu"))
    assert b["a"].device.type == "cpu" and b["n"] == 3 and isinstance(b["b"], list)
