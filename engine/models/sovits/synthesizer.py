"""The SoVITS synthesizer (v1, v2, v2Pro, v2ProPlus): every submodule under upstream's
attribute names, the training forward, semantic-token extraction and inference decoding.

Pro models condition on a speaker-verification embedding of the reference as well: for each
reference ge = PReLU(ref_enc(spec) + sv_emb(sv)); the flow and the waveform generator get
that gin-wide ge, the text encoder's MRTE gets ge_to512(ge) (spec upstream-v2pro §0.3)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.sovits.config import SovitsConfig
from engine.models.sovits.flow import CouplingFlow, PosteriorEncoder
from engine.models.sovits.generator import Generator
from engine.models.sovits.layers import cast_for_inference, fold_weight_norms, sequence_mask
from engine.models.sovits.quantizer import ResidualVQ
from engine.models.sovits.ref_encoder import StyleEncoder
from engine.models.sovits.text_encoder import TextEncoder


BF16_STAGES = 3  # generator stages run in bf16 by prepare_inference("bf16")


@dataclass
class TrainOutput:
    audio: torch.Tensor  # (B, 1, segment_frames * hop) generated slice
    slice_starts: torch.Tensor  # (B,) frame index of each slice
    mask: torch.Tensor  # (B, 1, T) frame mask
    z_p: torch.Tensor
    m_p: torch.Tensor
    logs_p: torch.Tensor
    logs_q: torch.Tensor
    commit_loss: torch.Tensor


class Synthesizer(nn.Module):
    def __init__(self, cfg: SovitsConfig) -> None:
        super().__init__()
        cfg.check()
        self.cfg = cfg
        self.enc_p = TextEncoder(cfg.inter_channels, cfg.hidden_channels, cfg.filter_channels,
                                 cfg.n_heads, cfg.n_layers, cfg.kernel_size, cfg.p_dropout,
                                 cfg.n_symbols, cfg.ssl_dim, cfg.mrte_hidden)
        self.dec = Generator(cfg.inter_channels, cfg.resblock_kernel_sizes,
                             cfg.resblock_dilation_sizes, cfg.upsample_rates,
                             cfg.upsample_initial_channel, cfg.upsample_kernel_sizes,
                             cfg.gin_channels)
        self.enc_q = PosteriorEncoder(cfg.spec_channels, cfg.inter_channels, cfg.hidden_channels,
                                      5, 1, cfg.posterior_layers, cfg.gin_channels)
        self.flow = CouplingFlow(cfg.inter_channels, cfg.hidden_channels, 5, 1, 4,
                                 cfg.flow_layers, cfg.gin_channels)
        self.ref_enc = StyleEncoder(cfg.style_bins, cfg.gin_channels, cfg.style_hidden)
        self.ssl_proj = nn.Conv1d(cfg.ssl_dim, cfg.ssl_dim, 2, stride=2)
        self.quantizer = ResidualVQ(cfg.ssl_dim, cfg.codebook_size, 1)
        if cfg.is_pro:  # registered last: upstream's files list these keys after quantizer.*
            self.sv_emb = nn.Linear(cfg.sv_dim, cfg.gin_channels)
            self.ge_to512 = nn.Linear(cfg.gin_channels, cfg.mrte_hidden)
            self.prelu = nn.PReLU(cfg.gin_channels)

    # --- semantic tokens -------------------------------------------------------------
    @torch.no_grad()
    def extract_latent(self, ssl: torch.Tensor) -> torch.Tensor:
        """HuBERT features (B, 768, T at 50 Hz) -> codes (B, 1, T // 2) at 25 Hz."""
        return self.quantizer.encode(self.ssl_proj(ssl)).transpose(0, 1)

    def _upsample(self, quantized: torch.Tensor) -> torch.Tensor:
        if self.cfg.semantic_frame_rate == "25hz":
            return F.interpolate(quantized, size=quantized.shape[-1] * 2, mode="nearest")
        return quantized

    # --- style ----------------------------------------------------------------------
    def style(self, spec: torch.Tensor, sv: torch.Tensor | None = None) -> torch.Tensor:
        """One reference spectrogram (1, 1025, T) [and, for Pro, its speaker embedding
        (1, sv_dim) or (sv_dim,)] -> ge (1, gin, 1)."""
        mask = torch.ones(spec.shape[0], 1, spec.shape[2], dtype=spec.dtype, device=spec.device)
        return self._with_speaker(self.ref_enc(spec, mask), sv)

    def _with_speaker(self, ge: torch.Tensor, sv: torch.Tensor | None) -> torch.Tensor:
        if not self.cfg.is_pro:
            return ge
        if sv is None:
            raise ValueError(f"a {self.cfg.version} model needs the reference's speaker "
                             "embedding (sv_emb) next to its spectrogram")
        return self.prelu(ge + self.sv_emb(sv.to(ge.dtype)).reshape(ge.shape[0], -1, 1))

    def mrte_style(self, ge: torch.Tensor) -> torch.Tensor:
        """The style the text encoder's MRTE adds: ge itself, or ge_to512(ge) for Pro."""
        if not self.cfg.is_pro:
            return ge
        return self.ge_to512(ge.transpose(1, 2)).transpose(1, 2)

    @staticmethod
    def _sv_list(sv_emb, n: int) -> list[torch.Tensor | None]:
        """One speaker embedding per reference, from a list, an (n, D) stack or one (1, D)."""
        if sv_emb is None:
            return [None] * n
        if isinstance(sv_emb, (list, tuple)):
            items = list(sv_emb)
        else:
            rows = sv_emb.reshape(-1, sv_emb.shape[-1])
            items = [rows[i] for i in range(rows.shape[0])]
        if len(items) != n:
            raise ValueError(f"{n} reference spectrograms but {len(items)} speaker embeddings")
        return items

    # --- inference ------------------------------------------------------------------
    @torch.no_grad()
    def decode(self, codes: torch.Tensor, text: torch.Tensor,
               refs: torch.Tensor | list[torch.Tensor], noise_scale: float = 0.5,
               speed: float = 1.0, noise: torch.Tensor | None = None,
               sv_emb: torch.Tensor | Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        """codes (1, 1, T25) or (1, T25); text (1, P) phoneme ids of the target text;
        refs one spectrogram or a list (their style vectors are averaged).
        ``sv_emb`` (Pro only, required there): the speaker embedding of each reference, as a
        list, an (R, sv_dim) stack or one (1, sv_dim); reference i pairs with embedding i.
        Returns audio (1, 1, 2 * T25 * 640 / speed-ish) at 32 kHz in [-1, 1].
        ``noise`` replaces the standard-normal draw (reproducible decoding)."""
        if codes.dim() == 2:
            codes = codes.unsqueeze(1)
        codes = codes.transpose(0, 1)  # (n_q, B, T)
        ref_list = list(refs) if isinstance(refs, (list, tuple)) else [refs]
        svs = self._sv_list(sv_emb, len(ref_list)) if self.cfg.is_pro else [None] * len(ref_list)
        # Several references: average ge after the PReLU; MRTE's ge512 comes from the mean.
        ge = torch.stack([self.style(r, sv) for r, sv in zip(ref_list, svs)], 0).mean(0)
        q = self._upsample(self.quantizer.decode(codes))
        y_len = torch.tensor([q.shape[-1]], device=q.device)
        t_len = torch.tensor([text.shape[-1]], device=text.device)
        _, m_p, logs_p, mask = self.enc_p(q, y_len, text, t_len, self.mrte_style(ge), speed)
        eps = torch.randn_like(m_p) if noise is None else noise.to(m_p)
        z_p = m_p + eps * torch.exp(logs_p) * noise_scale
        z = self.flow(z_p, mask, g=ge, reverse=True)
        return self.dec(z * mask, g=ge)

    def prepare_inference(self, precision: str = "fp32") -> "Synthesizer":
        """eval(), cache weight-normed kernels and window the generator's late stages (faster,
        same numbers); call it after moving the model to its device. ``precision="bf16"``
        also runs the wide first stages of the waveform generator (most of decode time) in
        bfloat16: faster on CPUs with AMX / AVX512-BF16 (see bench/results/sovits.md), at
        ~1% relative RMS difference from fp32. Parameters stay fp32 (bf16 copies are used),
        so ``prepare_inference("fp32")`` or ``train()`` go back exactly."""
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be fp32 or bf16, not {precision!r}")
        self.eval()
        self.dec.bf16_stages = 0
        fold_weight_norms(self)
        cast_for_inference(self.dec, None)
        if precision == "bf16":
            self.dec.to_bf16_stages(BF16_STAGES)
        return self

    # --- training -------------------------------------------------------------------
    def forward(self, ssl: torch.Tensor, spec: torch.Tensor, spec_lengths: torch.Tensor,
                text: torch.Tensor, text_lengths: torch.Tensor,
                sv_emb: torch.Tensor | None = None) -> TrainOutput:
        """``sv_emb`` (B, sv_dim): each clip's 7-sv_cn embedding, required for Pro."""
        mask = sequence_mask(spec_lengths, spec.size(2)).unsqueeze(1).to(spec.dtype)
        ge = self._with_speaker(self.ref_enc(spec, mask), sv_emb)
        # Codes are chosen in fp32 even under autocast, so training sees the same tokens the
        # format step wrote; a frozen quantizer and ssl_proj get no gradient (upstream's too).
        with torch.autocast(ssl.device.type, enabled=False):
            if self.cfg.freeze_quantizer:
                self.ssl_proj.eval()
                self.quantizer.eval()
                with torch.no_grad():
                    quantized, _, commit = self.quantizer(self.ssl_proj(ssl.float()))
            else:
                quantized, _, commit = self.quantizer(self.ssl_proj(ssl.float()))
        quantized = self._upsample(quantized)
        _, m_p, logs_p, _ = self.enc_p(quantized, spec_lengths, text, text_lengths,
                                       self.mrte_style(ge))
        z, _, logs_q, mask = self.enc_q(spec, spec_lengths, g=ge)
        z_p = self.flow(z, mask, g=ge)
        seg = self.cfg.segment_frames
        max_start = (spec_lengths - seg + 1).clamp(min=1)
        starts = (torch.rand(z.shape[0], device=z.device) * max_start).long()
        z_slice = torch.stack([z[i, :, s: s + seg] for i, s in enumerate(starts.tolist())])
        audio = self.dec(z_slice, g=ge)
        return TrainOutput(audio, starts, mask, z_p, m_p, logs_p, logs_q, commit)
