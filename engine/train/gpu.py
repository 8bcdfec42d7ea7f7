"""GPU figures for the dashboard, measured in the job process only (the TUI never touches
CUDA): peak memory torch has allocated, and the card's utilisation when NVML is there.
Sampled every few seconds, not every step (an NVML query costs about a millisecond)."""
from __future__ import annotations

import time

EVERY_S = 5.0


class GpuMeter:
    def __init__(self, device) -> None:  # noqa: ANN001 -- a torch.device
        self.on = getattr(device, "type", "") == "cuda"
        self._next = 0.0
        self._last: dict[str, float] = {}

    def metrics(self) -> dict[str, float]:
        if not self.on or time.monotonic() < self._next:
            return self._last
        import torch

        self._next = time.monotonic() + EVERY_S
        out = {"gpu_mem_gb": torch.cuda.max_memory_allocated() / 2**30,
               "gpu_total_gb": torch.cuda.get_device_properties(0).total_memory / 2**30}
        try:
            out["gpu_util"] = float(torch.cuda.utilization())
        except Exception:  # noqa: BLE001 -- no pynvml or no permission: memory is enough
            pass
        self._last = out
        return out
