"""The GPT (text-to-semantic) architecture settings, read from and written to upstream's
``config["model"]`` section (``configs/s1longer-v2.yaml``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from engine.events import StepError

BERT_DIM = 1024  # chinese-roberta-wwm-ext-large hidden size; fixed in upstream's bert_proj


@dataclass(frozen=True)
class GptConfig:
    vocab_size: int = 1025  # 1024 semantic codes + EOS
    phoneme_vocab_size: int = 732  # v2 symbols (v1: 512)
    embedding_dim: int = 512
    hidden_dim: int = 512
    head: int = 16
    linear_units: int = 2048  # recorded only: upstream always builds the FFN as 4 * hidden_dim
    n_layer: int = 24
    dropout: float = 0.0  # token-embedding dropout; positions and layers use 0.1 in training
    EOS: int = 1024
    random_bert: int = 0

    @property
    def ffn_dim(self) -> int:
        return 4 * self.hidden_dim

    @classmethod
    def from_upstream(cls, model_section: dict[str, Any]) -> "GptConfig":
        known = cls.__dataclass_fields__
        cfg = cls(**{k: v for k, v in model_section.items() if k in known})
        cfg.check()
        return cfg

    def to_upstream(self) -> dict[str, Any]:
        return asdict(self)

    def check(self) -> None:
        if self.EOS != self.vocab_size - 1:
            raise StepError(f"GPT config has EOS {self.EOS} but vocab_size {self.vocab_size}.",
                            "EOS must be the last semantic id (vocab_size - 1); the file is damaged.")
        if self.embedding_dim != self.hidden_dim or self.hidden_dim % self.head:
            raise StepError(
                f"GPT config embedding_dim {self.embedding_dim} / hidden_dim {self.hidden_dim} / "
                f"head {self.head} is not a shape GPT-SoVITS can build.",
                "Use a GPT file written by GPT-SoVITS or gsv-tui.")


def upstream_config(model: GptConfig, *, exp_name: str = "", epochs: int = 15,
                    batch_size: int = 8, save_every: int = 5, dpo: bool = False,
                    max_sec: int = 54, top_k: int = 15) -> dict[str, Any]:
    """The whole config dict upstream writes into exported weights (s1longer-v2.yaml as the
    WebUI rewrites it). Inference reads ``model`` and ``data.max_sec`` from it."""
    return {
        "train": {"seed": 1234, "epochs": epochs, "batch_size": batch_size,
                  "save_every_n_epoch": save_every, "precision": "16-mixed",
                  "gradient_clip": 1.0, "if_save_every_weights": True, "if_save_latest": True,
                  "if_dpo": dpo, "half_weights_save_dir": "GPT_weights_v2", "exp_name": exp_name},
        "optimizer": {"lr": 0.01, "lr_init": 1e-05, "lr_end": 0.0001, "warmup_steps": 2000,
                      "decay_steps": 40000},
        "data": {"max_eval_sample": 8, "max_sec": max_sec, "num_workers": 4, "pad_val": 1024},
        "model": model.to_upstream(),
        "inference": {"top_k": top_k},
    }
