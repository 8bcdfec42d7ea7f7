"""``gsv doctor``: what this machine offers the wizard, each problem with its fix.

Never imports torch (it shells out to nvidia-smi), so it answers in well under a second."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from engine.appconfig import load_config

# The pretrained files the pipelines need, as engine.hub.PRETRAINED names them: v2's, then
# v2ProPlus/v2Pro's (their SoVITS bases, the s1v3 GPT base and the speaker model).
PRETRAINED_KEYS = ("bert", "hubert", "v2-base", "v2ProPlus-base", "v2Pro-base", "s1v3", "sv")
MIN_FREE_GB = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class GpuInfo:
    name: str
    memory_gb: float
    free_gb: float


def detect_gpus() -> list[GpuInfo]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=name,memory.total,memory.free",
                              "--format=csv,noheader,nounits"], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    gpus = []
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            try:
                gpus.append(GpuInfo(parts[0], float(parts[1]) / 1024, float(parts[2]) / 1024))
            except ValueError:
                continue
    return gpus


def check_gpu() -> Check:
    gpus = detect_gpus()
    if not gpus:
        return Check("GPU", "warn", "no NVIDIA GPU found: data steps work, training on CPU is very slow",
                     "Use a machine with an NVIDIA GPU (driver + nvidia-smi) for training.")
    g = gpus[0]
    detail = f"{g.name}, {g.memory_gb:.0f} GB ({g.free_gb:.0f} GB free)"
    if len(gpus) > 1:
        detail += f" (+{len(gpus) - 1} more)"
    if g.memory_gb < 6:
        return Check("GPU", "warn", detail + ": under 6 GB, use batch size 1–2",
                     "Lower the training batch size in the Train step.")
    return Check("GPU", "ok", detail)


def check_ffmpeg() -> Check:
    if shutil.which("ffmpeg"):
        return Check("ffmpeg", "ok", shutil.which("ffmpeg") or "")
    return Check("ffmpeg", "warn", "not found: m4a/aac/opus/video import falls back to PyAV",
                 "sudo apt-get install ffmpeg")


def check_players() -> list[Check]:
    """Playback problems from engine.audio.playback.diagnose (each with its fix commands)."""
    from engine.audio.playback import diagnose

    problems = diagnose()
    if not problems:
        players = [p for p in ("paplay", "pacat", "aplay", "ffplay") if shutil.which(p)]
        return [Check("playback", "ok", "a sound sink is reachable" +
                      (f" (players: {', '.join(players)})" if players else ""))]
    return [Check("playback", "warn", f"{p.summary}. {p.detail}".strip(),
                  "\n".join(p.fixes)) for p in problems]


def check_disk(path: Path) -> Check:
    path = path if path.exists() else Path.home()
    free = shutil.disk_usage(path).free / 1e9
    if free < MIN_FREE_GB:
        return Check("disk", "warn", f"{free:.1f} GB free at {path}",
                     f"Free at least {MIN_FREE_GB:.0f} GB (models ~5 GB, training checkpoints ~1 GB each).")
    return Check("disk", "ok", f"{free:.0f} GB free at {path}")


def check_models() -> Check:
    from engine.events import StepError
    from engine.hub import PRETRAINED, resolve_local

    base = load_config().models_path()
    missing = []
    for key in PRETRAINED_KEYS:
        try:
            found = resolve_local(PRETRAINED[key])
        except StepError:
            found = None
        if found is None:
            spec = PRETRAINED[key]  # the two Pro bases share a folder: name their G file
            missing.append(f"{spec.name}/{spec.files[0]}" if "Pro" in key else spec.name)
    if not missing:
        return Check("pretrained models", "ok", "BERT, HuBERT, the v2 and v2Pro/v2ProPlus bases "
                                                f"and the speaker model are in {base}")
    return Check("pretrained models", "warn", f"not on this machine yet: {', '.join(missing)}",
                 "They download on first use from Hugging Face lj1995/GPT-SoVITS (HF_ENDPOINT or the "
                 f"config's mirror is honoured), or fetch now: `gsv models get NAME`; or copy upstream's "
                 f"pretrained_models/ sub-folders into {base}/.")


def check_text_data() -> list[Check]:
    out = []
    from engine.text.english import missing_nltk_data, nltk_data_hint  # the lookup G2P uses

    missing = missing_nltk_data()
    if not missing:
        out.append(Check("English G2P data", "ok", "NLTK tagger found"))
    else:
        out.append(Check("English G2P data", "warn", f"not found: {', '.join(missing)} "
                         "(English text needs it)", nltk_data_hint(missing)))
    dic = os.environ.get("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")
    if Path(dic).exists():
        out.append(Check("Japanese dictionary", "ok", dic))
    else:
        out.append(Check("Japanese dictionary", "warn", "Open JTalk dictionary not found (Japanese text needs it)",
                         "sudo apt-get install open-jtalk-mecab-naist-jdic"))
    return out


def run_checks(project_root: Path | None = None) -> list[Check]:
    checks = [check_gpu(), check_ffmpeg(), *check_players(),
              check_disk(project_root or Path.cwd()), check_models(), *check_text_data()]
    return checks
