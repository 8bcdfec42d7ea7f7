"""Upstream's stage-2 hyper-parameters (``configs/s2.json`` as the WebUI rewrites it) as a plain
nested dict: what goes into the ``config`` of exported weights so upstream's loaders (which read
``data.filter_length``, ``train.segment_size``, ``data.hop_length``, ``model``) accept it."""
from __future__ import annotations

import copy
from typing import Any

from engine.models.sovits.config import HOP, N_FFT, N_MELS, SAMPLE_RATE, WIN, SovitsConfig

_TRAIN = {
    "log_interval": 100, "eval_interval": 500, "seed": 1234, "epochs": 8,
    "learning_rate": 1e-4, "betas": [0.8, 0.99], "eps": 1e-9, "batch_size": 4,
    "fp16_run": False, "lr_decay": 0.999875, "segment_size": 20480, "init_lr_ratio": 1,
    "warmup_epochs": 0, "c_mel": 45, "c_kl": 1.0, "text_low_lr_rate": 0.4, "grad_ckpt": False,
    "pretrained_s2G": "", "pretrained_s2D": "", "if_save_latest": True,
    "if_save_every_weights": True, "save_every_epoch": 4, "gpu_numbers": "0",
}
_DATA = {
    "max_wav_value": 32768.0, "sampling_rate": SAMPLE_RATE, "filter_length": N_FFT,
    "hop_length": HOP, "win_length": WIN, "n_mel_channels": N_MELS, "mel_fmin": 0.0,
    "mel_fmax": None, "add_blank": True, "n_speakers": 300, "cleaned_text": True,
}


def upstream_hparams(cfg: SovitsConfig, name: str, exp_dir: str = "",
                     train: dict[str, Any] | None = None) -> dict[str, Any]:
    t = copy.deepcopy(_TRAIN)
    t.update(train or {})
    t["segment_size"] = cfg.segment_frames * HOP
    data = dict(_DATA, exp_dir=exp_dir)
    return {
        "train": t, "data": data, "model": cfg.upstream_model_dict(),
        "s2_ckpt_dir": exp_dir, "content_module": "cnhubert",
        "save_weight_dir": "SoVITS_weights" if cfg.version == "v1" else f"SoVITS_weights_{cfg.version}",
        "name": name, "version": cfg.version, "pretrain": None, "resume_step": None,
    }
