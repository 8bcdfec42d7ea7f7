"""BS-RoFormer and Mel-Band-RoFormer (band-split rotary transformers), inference only.

Both take raw audio (batch, channels, samples), go to a complex STFT with the yaml's
settings (centred, periodic Hann of stft_win_length), fold channels into frequency
((freq, channel) order), turn each band's values into one feature, run axial transformers
over time and bands, and predict a complex mask per stem that multiplies the mixture's STFT.

- BS-RoFormer: contiguous bands of ``freqs_per_bands`` bins; a final RMSNorm.
- Mel-Band-RoFormer: ``num_bands`` overlapping bands, a bin belongs to every mel filter
  (librosa's Slaney filter bank at the model's rate) that is non-zero on it; the estimated
  masks of overlapping bands are averaged. An RMSNorm ends each axial transformer.

Weights load from the published checkpoints (see roformer_blocks for the key layout).
"""
from __future__ import annotations

import torch
from torch import nn

from engine.audio.separation.mdxc_config import RoformerParams
from engine.audio.separation.roformer_blocks import (BandSplit, MaskEstimator, RMSNorm,
                                                     axial_layers, run_axial)


class _RoformerBase(nn.Module):
    def __init__(self, p: RoformerParams) -> None:
        super().__init__()
        self.p = p
        self.channels = 2 if p.stereo else 1
        window = torch.hann_window(p.stft_win_length, device="cpu")
        self.register_buffer("window", window, persistent=False)

    def _stft(self, audio: torch.Tensor) -> torch.Tensor:
        """(b, s, L) → real view (b, F·s, T, 2), bins and channels interleaved (f s)."""
        p = self.p
        b, s, n = audio.shape
        spec = torch.stft(audio.reshape(b * s, n), p.stft_n_fft, p.stft_hop_length,
                          p.stft_win_length, self.window, normalized=p.stft_normalized,
                          return_complex=True)
        spec = torch.view_as_real(spec)  # (b·s, F, T, 2)
        f, t = spec.shape[1:3]
        return spec.view(b, s, f, t, 2).permute(0, 2, 1, 3, 4).reshape(b, f * s, t, 2)

    def _istft(self, spec: torch.Tensor, length: int) -> torch.Tensor:
        """complex (b, n, F·s, T) → (b, n, s, length)."""
        p = self.p
        b, n, fs, t = spec.shape
        s = self.channels
        flat = spec.view(b, n, fs // s, s, t).permute(0, 1, 3, 2, 4).reshape(b * n * s,
                                                                             fs // s, t)
        out = torch.istft(flat, p.stft_n_fft, p.stft_hop_length, p.stft_win_length,
                          self.window, normalized=p.stft_normalized, length=length)
        return out.view(b, n, s, length)

    def _masks(self, x: torch.Tensor) -> torch.Tensor:
        """features (b, T, bands, d) → complex masks (b, n, bins, T)."""
        m = torch.stack([est(x) for est in self.mask_estimators], dim=1)  # (b, n, T, bins·2)
        b, n, t, _ = m.shape
        return torch.view_as_complex(m.view(b, n, t, -1, 2).permute(0, 1, 3, 2, 4)
                                     .contiguous())


class BSRoformer(_RoformerBase):
    def __init__(self, p: RoformerParams) -> None:
        super().__init__(p)
        self.layers = axial_layers(p, norm_output=False)
        self.final_norm = RMSNorm(p.dim)
        dims = tuple(2 * f * self.channels for f in p.freqs_per_bands)
        self.band_split = BandSplit(p.dim, dims)
        self.mask_estimators = nn.ModuleList(
            MaskEstimator(p.dim, dims, p.mask_estimator_depth - 1, p.mlp_expansion_factor)
            for _ in range(p.num_stems))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """(b, s, L) → (b, stems, s, L)."""
        spec = self._stft(audio)
        b, fs, t, _ = spec.shape
        x = self.band_split(spec.permute(0, 2, 1, 3).reshape(b, t, fs * 2))
        x = self.final_norm(run_axial(self.layers, x, self.p.skip_connection))
        masked = torch.view_as_complex(spec.contiguous()).unsqueeze(1) * self._masks(x)
        return self._istft(masked, audio.shape[-1])


def mel_bands(p: RoformerParams) -> torch.Tensor:
    """(num_bands, bins) bool: which STFT bins each mel band covers."""
    from librosa import filters

    bank = torch.from_numpy(filters.mel(sr=p.sample_rate, n_fft=p.stft_n_fft,  # a CPU tensor
                                        n_mels=p.num_bands))
    # As the published models were trained: the first bin joins the first band and the last
    # bin the last band (librosa leaves them at zero or ~1e-18 depending on the machine).
    bank[0, 0] = 1.0
    bank[-1, -1] = 1.0
    return bank > 0


class MelBandRoformer(_RoformerBase):
    def __init__(self, p: RoformerParams) -> None:
        super().__init__(p)
        self.layers = axial_layers(p, norm_output=True)
        bands = mel_bands(p)
        bins = bands.shape[1]
        if not bands.any(dim=0).all():
            raise ValueError("some STFT bins belong to no mel band")
        # the layout is data, computed on the CPU even when the weights are made elsewhere
        idx = torch.arange(bins, device="cpu").expand_as(bands)[bands]  # band by band
        s = self.channels
        idx = (idx[:, None] * s + torch.arange(s, device="cpu")).reshape(-1)  # + channels
        self.register_buffer("freq_indices", idx, persistent=False)
        per_bin = bands.sum(dim=0).repeat_interleave(s).float()
        self.register_buffer("bands_per_bin", per_bin, persistent=False)
        dims = tuple(2 * int(n) * s for n in bands.sum(dim=1).tolist())
        self.band_split = BandSplit(p.dim, dims)
        self.mask_estimators = nn.ModuleList(
            MaskEstimator(p.dim, dims, p.mask_estimator_depth, p.mlp_expansion_factor)
            for _ in range(p.num_stems))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        spec = self._stft(audio)
        b, fs, t, _ = spec.shape
        x = spec[:, self.freq_indices]  # (b, bins in bands, T, 2)
        x = self.band_split(x.permute(0, 2, 1, 3).reshape(b, t, -1))
        x = run_axial(self.layers, x, self.p.skip_connection)
        masks = torch.view_as_real(self._masks(x))  # (b, n, bins in bands, T, 2)
        n = masks.shape[1]
        # summed on the real view: index_add of complex tensors is not on every device
        summed = masks.new_zeros(b, n, fs, t, 2).index_add_(2, self.freq_indices, masks)
        avg = summed / self.bands_per_bin.clamp(min=1e-8)[:, None, None].to(summed.dtype)
        masked = (torch.view_as_complex(spec.contiguous()).unsqueeze(1)
                  * torch.view_as_complex(avg))
        return self._istft(masked, audio.shape[-1])


def build(arch: str, p: RoformerParams) -> nn.Module:
    from engine.audio.separation.mdxc_config import BS_ROFORMER

    return BSRoformer(p) if arch == BS_ROFORMER else MelBandRoformer(p)
