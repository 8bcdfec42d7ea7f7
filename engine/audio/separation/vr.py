"""VR-architecture separation (UVR's .pth models): a Separator (see base.py).

Inference, our re-implementation of UVR's: the combined magnitude spectrogram, scaled by its
peak, is zero-padded by the network's ``offset`` frames each side and cut into windows of
``window`` frames that overlap by 2 × offset; each window's centre (window − 2 × offset
frames) is kept. The network gives a mask; the masked magnitude with the mixture's phase is
the model's own stem ("mask"), the mixture minus it the rest. Aggressiveness (old networks,
as upstream's UVR5 tab) raises the mask to 1 + a/3 below the first band's crop and 1 + a
above. TTA runs the windows a second time shifted by half a centre and averages.

Which stem is the voice: the DeEcho/DeReverb models (new networks) and HP3 predict the
voice; HP2/HP5 and UVR's HP models predict the accompaniment, the voice is the rest
(upstream swaps its output folders the same way). ``voice`` = "auto" | "mask" | "rest".

Memory: the caller gives at most a segment (separation/segment.py); here the segment's
spectrogram plus ``batch`` windows in the network.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.audio.separation.base import ProgressFn
from engine.events import StepError


@dataclass(frozen=True)
class VrOptions:
    aggressiveness: float = 0.1  # upstream's slider 0..20 ↦ 0..0.2 (default 10)
    window: int = 512  # frames per network window (UVR offers 320, 512, 1024)
    tta: bool = False
    voice: str = "auto"  # auto | mask | rest
    params: str = ""  # a built-in layout name or a JSON path; "" finds it
    batch: int = 2  # windows per network call


def mask_is_voice(name: str, kind: str, voice: str = "auto") -> bool:
    if voice != "auto":
        return voice == "mask"
    n = name.lower()
    return kind == "new" or "hp3" in n or "echo" in n or "reverb" in n


def _device(device: str) -> str:
    import torch

    if device in ("", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise StepError("device cuda was asked for but torch sees no GPU",
                        "Use device cpu (or auto), or run on the GPU machine.")
    return device


def _load_state(path: Path) -> dict:
    import torch

    try:
        sd = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise StepError(f"Cannot read {path.name} as a torch state dict ({str(exc)[:120]})",
                        "Use a VR-architecture .pth from UVR5 (e.g. VR-DeEchoAggressive.pth)."
                        ) from exc
    for key in ("state_dict", "model"):  # some tools wrap the weights
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    if not isinstance(sd, dict) or not all(hasattr(v, "shape") for v in sd.values()):
        raise StepError(f"{path.name} holds no state dict of tensors",
                        "Use a VR-architecture .pth from UVR5.")
    return sd


class VrSeparator:
    def __init__(self, path: Path, device: str = "auto", options: VrOptions | None = None):
        import torch

        from engine.audio.separation import vr_nets
        from engine.audio.separation.vr_params import find_params

        self.options = options or VrOptions()
        sd = _load_state(path)
        self.kind = vr_nets.net_kind(sd)
        self.params, self.params_from = find_params(path, self.kind, self.options.params)
        self.device = _device(device)
        self.net = vr_nets.build(sd, self.params.n_fft, path.name).to(self.device)
        self.name = path.name
        self.sample_rate = self.params.sr
        self.mask_voice = mask_is_voice(path.stem, self.kind, self.options.voice)
        if self.options.window <= 2 * self.net.offset:
            raise StepError(f"vr_window {self.options.window} is not above twice the "
                            f"network's offset ({2 * self.net.offset} frames)",
                            "Use 512 (upstream's) or 320/1024.")
        self._torch = torch

    def describe(self) -> str:
        return (f"{self.name}: VR {self.kind} network, layout {self.params.name} "
                f"({self.params_from}), voice = {'its mask' if self.mask_voice else 'the rest'}")

    def _masks(self, mag: np.ndarray, pad_l: int, progress: ProgressFn | None,
               share: tuple[float, float]) -> np.ndarray:
        """Masks for (2, rows, frames) ``mag``, windows starting ``pad_l`` frames early."""
        torch = self._torch
        win, off = self.options.window, self.net.offset
        roi = win - 2 * off
        frames = mag.shape[2]
        n_win = int(np.ceil((frames + pad_l - off) / roi))
        pad_r = n_win * roi + 2 * off - frames - pad_l
        x = np.pad(mag, ((0, 0), (0, 0), (pad_l, pad_r)))
        out = np.empty((2, mag.shape[1], n_win * roi), np.float32)
        b = max(1, self.options.batch)
        with torch.inference_mode():
            for k in range(0, n_win, b):
                ks = range(k, min(n_win, k + b))
                batch = np.stack([x[:, :, i * roi:i * roi + win] for i in ks])
                m = self.net(torch.from_numpy(batch).to(self.device)).float().cpu().numpy()
                for j, i in enumerate(ks):
                    out[:, :, i * roi:(i + 1) * roi] = m[j, :, :, off:off + roi]
                if progress:
                    progress(share[0] + share[1] * min(1.0, (k + len(ks)) / n_win))
        return out

    def separate(self, wave: np.ndarray, progress: ProgressFn | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        from engine.audio.separation import vr_spec

        if wave.ndim != 2 or wave.shape[0] != 2:
            raise ValueError("VR models take a stereo wave [2, samples]")
        n = wave.shape[1]
        # one top-band FFT of zeros past the end, so the last frames' samples come back
        wave = np.pad(wave, ((0, 0), (0, self.params.bands[-1].n_fft)))
        spec, high = vr_spec.analyse(wave, self.params)
        mag = np.abs(spec)
        peak = float(mag.max()) or 1.0
        mag_n = (mag / peak).astype(np.float32)
        off, roi = self.net.offset, self.options.window - 2 * self.net.offset
        tta = self.options.tta
        frames = mag.shape[2]
        mask = self._masks(mag_n, off, progress, (0.0, 0.5 if tta else 0.9))[:, :, :frames]
        if tta:
            shifted = self._masks(mag_n, off + roi // 2, progress, (0.5, 0.4))
            mask = 0.5 * (mask + shifted[:, :, roi // 2:roi // 2 + frames])
        if self.kind == "old" and self.options.aggressiveness:
            a, split = self.options.aggressiveness, self.params.bands[0].crop_stop
            mask[:, :split] **= 1 + a / 3
            mask[:, split:] **= 1 + a
        own = (mask * mag) * np.exp(1j * np.angle(spec))
        rest = spec - own
        waves = []
        for part in (own, rest):
            hi = vr_spec.mirror_high_end(part, high, self.params)
            w = vr_spec.synthesise(part, self.params, hi)
            w = w[:, :n] if w.shape[1] >= n else np.pad(w, ((0, 0), (0, n - w.shape[1])))
            waves.append(w.astype(np.float32))
        if progress:
            progress(1.0)
        return (waves[0], waves[1]) if self.mask_voice else (waves[1], waves[0])


def load_vr(path: Path, device: str = "auto", options: VrOptions | None = None
            ) -> VrSeparator:
    return VrSeparator(Path(path), device, options)
