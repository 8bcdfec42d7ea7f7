"""The SoVITS fine-tuning request: every knob with upstream's default and range (spec §2.8)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import knob


@dataclass
class SovitsTrainRequest:
    project_root: str
    slug: str
    pretrained_g: str = knob("", "Pretrained SoVITS generator (s2G*.pth); empty starts from random weights")
    pretrained_d: str = knob("", "Pretrained discriminator (s2D*.pth); empty starts from random weights")
    version: str = knob("v2", "Model version (phoneme table and style input)", choices=("v1", "v2", "v2Pro", "v2ProPlus"))
    epochs: int = knob(8, "Total training epochs", min=1, max=100)
    batch_size: int = knob(4, "Clips per training step", min=1, max=64)
    save_every_epoch: int = knob(4, "Save a checkpoint and export weights every N epochs", min=1, max=100)
    save_latest_only: bool = knob(True, "Keep only the newest training checkpoint")
    export_every_save: bool = knob(True, "Export small SoVITS weights at every save")
    learning_rate: float = knob(1e-4, "AdamW learning rate", min=1e-6, max=1e-2)
    text_low_lr_rate: float = knob(0.4, "Learning-rate factor for the text modules", min=0.2, max=0.6)
    lr_decay: float = knob(0.999875, "Per-epoch exponential learning-rate decay", min=0.9, max=1.0)
    fp16: bool = knob(True, "Mixed precision on GPU (ignored on CPU)")
    amp: str = knob("auto", "Mixed precision on a GPU: auto = fp16 with a gradient scaler "
                            "(upstream); bf16 where the card has it; off = 32-bit (as fp16 off)",
                    choices=("auto", "fp16", "bf16", "off"), label="Mixed precision")
    grad_checkpoint: str = knob("auto", "Recompute the decoder's activations in the backward "
                                        "pass to save GPU memory (auto: on cards under 10 GB)",
                                choices=("auto", "on", "off"), label="Gradient checkpointing")
    device: str = knob("auto", "Where to train", choices=("auto", "cpu", "cuda"))
    seed: int = knob(1234, "Random seed for shuffling and slicing")
    min_items_per_epoch: int = knob(100, "Repeat small datasets until an epoch has this many clips (0: never)", min=0, max=10000)
    log_every: int = knob(10, "Log losses every N steps", min=1, max=10000)
    # For tests and experiments: model size overrides (SovitsConfig fields) and a narrower
    # discriminator; an empty dict is upstream's full-size v2 model.
    model_config: dict = knob({}, "SoVITS model-size overrides (advanced)")
    disc_width: int = knob(1, "Divide the discriminator's channels by this (1 = upstream)", min=1, max=64)
    bad_step_limit: int = knob(10, "Stop when the loss is not a number this many steps in a row "
                                   "(each such step is skipped, never learned from)",
                               min=1, max=1000, unit="steps", label="Stop after non-finite")
    threads: int = knob(0, "CPU threads for torch (0: torch's default)", min=0, max=256)
