"""The default maximum clip length: the tutorial's rule, seconds ≤ GPU memory in GB.

Asked of ``nvidia-smi`` (no torch import: the TUI builds requests from this module).
"""
from __future__ import annotations

import shutil
import subprocess

NO_GPU_MAX_S = 12.0  # a CPU box or no driver: a length every common GPU trains on
AUTO_CAP_S = 20.0  # big cards allow long clips, but GPT training still chokes past ~20-30 s


def gpu_memory_gb() -> float | None:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=5, check=True).stdout
        mib = min(float(line) for line in out.split() if line.strip())
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return mib / 1024.0


def max_clip_for(gb: float | None) -> float:
    """Seconds ≤ GB, floored at 4 s (upstream's min_length) and capped at 20 s."""
    if gb is None:
        return NO_GPU_MAX_S
    return float(max(4.0, min(AUTO_CAP_S, int(gb))))


def default_max_clip_s() -> float:
    return max_clip_for(gpu_memory_gb())
