"""The format (1A) step's request: what the TUI form, the CLI and the project file see."""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import knob


@dataclass
class FormatRequest:
    project_root: str
    list_path: str = knob("", "Transcript to format (empty: the project's asr/<slug>.list)",
                          label="Transcript (.list)")
    version: str = knob("project", "Model version the features are for (project: the project's)",
                        choices=("project", "v1", "v2", "v2Pro", "v2ProPlus"))
    bert_dir: str = knob("", "Folder of chinese-roberta-wwm-ext-large (empty: the models folder)",
                         label="BERT folder")
    hubert_dir: str = knob("", "Folder of chinese-hubert-base (empty: the models folder)",
                           label="HuBERT folder")
    sovits_path: str = knob("", "Pretrained SoVITS G file whose quantizer makes the semantic "
                                "tokens (empty: the base model of the version)",
                            label="Pretrained SoVITS G")
    sv_path: str = knob("", "Speaker-model file pretrained_eres2netv2w24s4ep4.ckpt for v2Pro/"
                            "v2ProPlus (empty: the models folder's sv/)",
                        label="Speaker model (v2Pro)")
    device: str = knob("auto", "Where the feature models run", choices=("auto", "cpu", "cuda"))
    workers: str = knob("", "Split the clips over worker processes: GPU numbers on a GPU "
                            "(0,1; 0,0 = two on GPU 0; all), a number of processes on the "
                            "CPU (2); empty: one process",
                        label="Workers (GPUs / processes)")
    half: bool = knob(True, "Half precision on a GPU, as upstream (ignored on CPU)",
                      label="Half precision (GPU)")
    allow_download: bool = knob(True, "Download missing pretrained models from Hugging Face",
                                label="Allow downloads")
