"""The GPT training request: every knob declared once (no heavy imports here; the TUI reads it)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.settings import knob


@dataclass
class GptTrainRequest:
    project_root: str
    slug: str  # experiment name: reads logs/<slug>/, writes GPT_weights/<slug>-e<E>.ckpt
    pretrained: str = knob("", "GPT weights to fine-tune (the pretrained s1*.ckpt); empty starts "
                               "from random weights, which only makes sense for tests")
    version: str = knob("", "Project model version (names logs_s1_<version>/); empty: told by "
                            "the weights (v1 or v2)", choices=("", "v1", "v2", "v2Pro", "v2ProPlus"))
    epochs: int = knob(15, "Passes over the data set", min=1, max=50)
    batch_size: int = knob(8, "Utterances per batch (about 2 per GB of GPU memory)", min=1, max=40)
    save_every: int = knob(5, "Export usable weights every N epochs (and after the last)",
                           min=1, max=50, unit="epochs")
    dpo: bool = knob(False, "Also train against made-up bad readings (repeats/skips); "
                            "experimental, halves the batch")
    learning_rate: float = knob(0.002, "Relative step size (the rate upstream really trains with)",
                                min=1e-5, max=0.05)
    accumulate: int = knob(4, "Batches per optimizer step", min=1, max=64, unit="batches")
    precision: str = knob("auto", "Arithmetic: auto = 16-bit mixed on a GPU, 32-bit on CPU",
                          choices=("auto", "32", "16-mixed", "bf16-mixed"))
    device: str = knob("auto", "Where to train", choices=("auto", "cpu", "cuda"))
    grad_checkpoint: str = knob("auto", "Recompute the layers' activations in the backward "
                                        "pass to save GPU memory (auto: on cards under 10 GB)",
                                choices=("auto", "on", "off"), label="Gradient checkpointing")
    seed: int = knob(1234, "Random seed (data order, dropout, DPO)", min=0, max=2**31 - 1)
    bad_step_limit: int = knob(10, "Stop when the loss is not a number this many batches in a "
                                   "row (each such batch is skipped, never learned from)",
                               min=1, max=1000, unit="batches", label="Stop after non-finite")
    max_sec: int = knob(54, "Skip clips longer than this", min=5, max=60, unit="s")
    # Not user knobs: architecture for a from-scratch run (tests) and a step cap.
    model: dict[str, Any] = field(default_factory=dict)
    max_batches: int = 0  # stop (resumably) after this many batches in this call; 0 = no cap
