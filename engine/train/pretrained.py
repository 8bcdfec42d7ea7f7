"""Upstream's pretrained bases the Train step fine-tunes from (spec §8), per model version.

Resolved like every model (engine.hub): the user's models folder in upstream's
``pretrained_models/`` layout, the Hugging Face cache, else a download from lj1995/GPT-SoVITS."""
from __future__ import annotations

from engine.hub import ModelSpec

REPO = "lj1995/GPT-SoVITS"
V2_DIR = "gsv-v2final-pretrained"
GPT_V2 = "s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt"
GPT_V1 = "s1bert25hz-2kh-longer-epoch=68e-step=50232.ckpt"

SOVITS_BASE = {
    "v2": ModelSpec(f"pretrained_models/{V2_DIR}", REPO, files=("s2G2333k.pth", "s2D2333k.pth"),
                    subfolder=V2_DIR),
    "v1": ModelSpec("pretrained_models", REPO, files=("s2G488k.pth", "s2D488k.pth")),
}
SOVITS_FILES = {"v2": ("s2G2333k.pth", "s2D2333k.pth"), "v1": ("s2G488k.pth", "s2D488k.pth")}
GPT_BASE = {
    "v2": ModelSpec(f"pretrained_models/{V2_DIR}", REPO, files=(GPT_V2,), subfolder=V2_DIR),
    "v1": ModelSpec("pretrained_models", REPO, files=(GPT_V1,)),
}
GPT_FILE = {"v2": GPT_V2, "v1": GPT_V1}
