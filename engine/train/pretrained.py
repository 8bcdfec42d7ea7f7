"""Upstream's pretrained bases the Train step fine-tunes from (spec §8), per model version
(v2Pro/v2ProPlus: ``<models dir>/v2Pro/s2G…/s2D…`` and ``s1v3.ckpt``, spec upstream-v2pro §9).

Resolved like every model (engine.hub): ``<models dir>/gsv-v2final-pretrained/`` (the same
folder engine.hub.PRETRAINED names for the format and synthesis steps), the Hugging Face
cache, else a download from lj1995/GPT-SoVITS."""
from __future__ import annotations

from engine.hub import PRETRAINED, ModelSpec

REPO = PRETRAINED["v2-base"].repo_id
V2_DIR = PRETRAINED["v2-base"].name
V1_DIR = "gsv-v1-pretrained"  # upstream keeps the v1 files at the root of pretrained_models/
GPT_V2 = "s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt"
GPT_V1 = "s1bert25hz-2kh-longer-epoch=68e-step=50232.ckpt"

GPT_V3 = PRETRAINED["s1v3"].files[0]  # s1v3.ckpt: v2's GPT architecture, the Pro base

SOVITS_FILES = {"v2": ("s2G2333k.pth", "s2D2333k.pth"), "v1": ("s2G488k.pth", "s2D488k.pth"),
                "v2Pro": PRETRAINED["v2Pro-base"].files,
                "v2ProPlus": PRETRAINED["v2ProPlus-base"].files}
GPT_FILE = {"v2": GPT_V2, "v1": GPT_V1, "v2Pro": GPT_V3, "v2ProPlus": GPT_V3}
SOVITS_BASE = {
    "v2": ModelSpec(V2_DIR, REPO, files=SOVITS_FILES["v2"], subfolder=V2_DIR),
    "v1": ModelSpec(V1_DIR, REPO, files=SOVITS_FILES["v1"]),
    "v2Pro": PRETRAINED["v2Pro-base"],
    "v2ProPlus": PRETRAINED["v2ProPlus-base"],
}
GPT_BASE = {
    "v2": ModelSpec(V2_DIR, REPO, files=(GPT_V2,), subfolder=V2_DIR),
    "v1": ModelSpec(V1_DIR, REPO, files=(GPT_V1,)),
    "v2Pro": PRETRAINED["s1v3"],
    "v2ProPlus": PRETRAINED["s1v3"],
}
