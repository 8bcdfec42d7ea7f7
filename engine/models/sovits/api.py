"""The calls the format and synthesize steps make: SSL features -> semantic codes, reference
audio -> spectrogram, and codes + phonemes + references -> 32 kHz audio."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from engine.models.sovits.audio import spectrogram
from engine.models.sovits.synthesizer import Synthesizer


def _param(model: Synthesizer) -> torch.Tensor:
    return next(model.parameters())


@torch.no_grad()
def ssl_to_codes(model: Synthesizer, ssl: torch.Tensor | np.ndarray) -> torch.Tensor:
    """HuBERT last hidden state (1, 768, T) or (768, T) at 50 Hz -> codes (T // 2,) int64."""
    x = torch.as_tensor(ssl)
    if x.dim() == 2:
        x = x.unsqueeze(0)
    p = _param(model)
    return model.extract_latent(x.to(p.device, p.dtype))[0, 0].cpu()


@torch.no_grad()
def reference_spec(wav_32k: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Mono float waveform at 32 kHz -> (1, 1025, N // 640). Peaks above 1 are scaled down
    the way upstream does (divide by min(2, peak))."""
    x = torch.as_tensor(np.asarray(wav_32k, dtype=np.float32)).flatten()
    peak = float(x.abs().max()) if x.numel() else 0.0
    if peak > 1:
        x = x / min(2.0, peak)
    return spectrogram(x.unsqueeze(0))


@torch.no_grad()
def synthesize(model: Synthesizer, codes: Sequence[int] | torch.Tensor,
               phone_ids: Sequence[int] | torch.Tensor,
               refs: torch.Tensor | Sequence[torch.Tensor], noise_scale: float = 0.5,
               speed: float = 1.0,
               sv_embs: torch.Tensor | Sequence[torch.Tensor] | None = None) -> np.ndarray:
    """Semantic codes (T,) and target phoneme ids (P,) -> float32 audio at 32 kHz.
    ``sv_embs``: for a v2Pro/v2ProPlus model, each reference's speaker embedding (20480-d,
    in the order of ``refs``); v1/v2 models ignore it."""
    p = _param(model)
    c = torch.as_tensor(codes, dtype=torch.long, device=p.device).reshape(1, 1, -1)
    t = torch.as_tensor(phone_ids, dtype=torch.long, device=p.device).reshape(1, -1)
    ref_list = [refs] if isinstance(refs, torch.Tensor) else list(refs)
    ref_list = [r.to(p.device, p.dtype).reshape(1, r.shape[-2], r.shape[-1]) for r in ref_list]
    sv = None
    if model.cfg.is_pro:
        if sv_embs is None:
            from engine.events import StepError

            raise StepError(f"This SoVITS {model.cfg.version} model needs the speaker embedding "
                            "of each reference clip.", "Compute it with the speaker model "
                            "(engine.models.sv) from the reference audio at 16 kHz.")
        items = [sv_embs] if isinstance(sv_embs, torch.Tensor) and len(ref_list) == 1 \
            else list(sv_embs)
        sv = [torch.as_tensor(e).to(p.device, p.dtype).reshape(1, -1) for e in items]
    audio = model.decode(c, t, ref_list, noise_scale=noise_scale, speed=speed, sv_emb=sv)
    return audio[0, 0].float().cpu().numpy()
