"""The VR-architecture networks, built from a state dict's own shapes.

Attribute names follow UVR's modules so a user's .pth loads strictly (facts: key names,
shapes, layer order, kernel sizes, dilations; the code is ours):

- "old" — CascadedASPPNet (HP2/HP3/HP5, UVR's 1_HP…9_HP2): three stages of a U-Net with an
  atrous pyramid (4 encoders, optionally a 5th; 5, 6 or 7 pyramid branches), bridges
  ``stg2_bridge``/``stg3_bridge``; output ``out``; ``offset`` 128 frames.
- "new" — CascadedNet (VR-DeEcho*, UVR 5.1 models): stages of a U-Net with a BiLSTM over
  frequency rows (``lstm_dec2``), low/high bands per stage; output ``out``; offset 64.

Which one, and every width, is read from the keys and tensor shapes, so any capacity
(HP 32-wide, HP2 64-wide, DeEcho 48/64) builds without a table of file sizes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.events import StepError


class ConvBNAct(nn.Module):
    """``conv``: Sequential(Conv2d without bias, BatchNorm2d, activation)."""

    def __init__(self, nin, nout, k=3, stride=1, pad=1, dil=1, act=nn.ReLU):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(nin, nout, k, stride, pad, dil, bias=False),
                                  nn.BatchNorm2d(nout), act())

    def forward(self, x):
        return self.conv(x)


class SepConvBNAct(nn.Module):
    """``conv``: Sequential(depthwise Conv2d, pointwise Conv2d, BatchNorm2d, activation)."""

    def __init__(self, nin, nout, k=3, pad=1, dil=1):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(nin, nin, k, 1, pad, dil, groups=nin, bias=False),
                                  nn.Conv2d(nin, nout, 1, bias=False), nn.BatchNorm2d(nout),
                                  nn.ReLU())

    def forward(self, x):
        return self.conv(x)


def _up_cat(x, skip):
    """Double the size, then append the skip cropped to the same number of frames."""
    x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    if skip is None:
        return x
    if skip.shape[3] != x.shape[3]:
        a = (skip.shape[3] - x.shape[3]) // 2
        skip = skip[:, :, :, a:a + x.shape[3]]
    return torch.cat([x, skip], dim=1)


def _pool_branch(block, x):
    return F.interpolate(block(x), size=x.shape[2:], mode="bilinear", align_corners=True)


# ---------------------------------------------------------------- old: CascadedASPPNet
class OldEncoder(nn.Module):  # returns (downsampled, skip)
    def __init__(self, nin, nout):
        super().__init__()
        self.conv1 = ConvBNAct(nin, nout, 3, 1, 1, act=nn.LeakyReLU)
        self.conv2 = ConvBNAct(nout, nout, 3, 2, 1, act=nn.LeakyReLU)

    def forward(self, x):
        skip = self.conv1(x)
        return self.conv2(skip), skip


class OldDecoder(nn.Module):
    def __init__(self, nin, nout):
        super().__init__()
        self.conv = ConvBNAct(nin, nout, 3, 1, 1)

    def forward(self, x, skip=None):
        return self.conv(_up_cat(x, skip))


class OldASPP(nn.Module):
    def __init__(self, nin, nout, branches, dil=(4, 8, 16)):
        super().__init__()
        self.conv1 = nn.Sequential(nn.AdaptiveAvgPool2d((1, None)), ConvBNAct(nin, nin, 1, 1, 0))
        self.conv2 = ConvBNAct(nin, nin, 1, 1, 0)
        self.conv3 = SepConvBNAct(nin, nin, 3, dil[0], dil[0])
        self.conv4 = SepConvBNAct(nin, nin, 3, dil[1], dil[1])
        self.conv5 = SepConvBNAct(nin, nin, 3, dil[2], dil[2])
        self.extra = [f"conv{i}" for i in range(6, branches + 1)]  # UVR repeats dil[2]
        for name in self.extra:
            setattr(self, name, SepConvBNAct(nin, nin, 3, dil[2], dil[2]))
        self.bottleneck = nn.Sequential(ConvBNAct(nin * branches, nout, 1, 1, 0), nn.Dropout2d(0.1))

    def forward(self, x):
        feats = [_pool_branch(self.conv1, x), self.conv2(x), self.conv3(x), self.conv4(x),
                 self.conv5(x)] + [getattr(self, n)(x) for n in self.extra]
        return self.bottleneck(torch.cat(feats, dim=1))


class OldUNet(nn.Module):
    def __init__(self, nin, ch, branches=5, five=False):
        super().__init__()
        self.five = five
        self.enc1, self.enc2 = OldEncoder(nin, ch), OldEncoder(ch, ch * 2)
        self.enc3, self.enc4 = OldEncoder(ch * 2, ch * 4), OldEncoder(ch * 4, ch * 8)
        if five:
            self.enc5 = OldEncoder(ch * 8, ch * 16)
            self.aspp = OldASPP(ch * 16, ch * 32, branches)
            self.dec5 = OldDecoder(ch * (16 + 32), ch * 16)
        else:
            self.aspp = OldASPP(ch * 8, ch * 16, branches)
        self.dec4 = OldDecoder(ch * (8 + 16), ch * 8)
        self.dec3 = OldDecoder(ch * (4 + 8), ch * 4)
        self.dec2 = OldDecoder(ch * (2 + 4), ch * 2)
        self.dec1 = OldDecoder(ch * (1 + 2), ch)

    def forward(self, x):
        h, e1 = self.enc1(x)
        h, e2 = self.enc2(h)
        h, e3 = self.enc3(h)
        h, e4 = self.enc4(h)
        if self.five:
            h, e5 = self.enc5(h)
            h = self.dec5(self.aspp(h), e5)
        else:
            h = self.aspp(h)
        return self.dec1(self.dec2(self.dec3(self.dec4(h, e4), e3), e2), e1)


class OldCascaded(nn.Module):
    offset = 128
    kind = "old"

    def __init__(self, n_fft, w: dict):
        super().__init__()
        b, five = w["branches"], w["five"]
        self.stg1_low_band_net = OldUNet(2, w["c1"], b, five)
        self.stg1_high_band_net = OldUNet(2, w["c1"], b, five)
        self.stg2_bridge = ConvBNAct(2 + w["c1"], w["b2"], 1, 1, 0)
        self.stg2_full_band_net = OldUNet(w["b2"], w["c2"], b, five)
        self.stg3_bridge = ConvBNAct(2 + w["c1"] + w["c2"], w["b3"], 1, 1, 0)
        self.stg3_full_band_net = OldUNet(w["b3"], w["c3"], b, five)
        self.out = nn.Conv2d(w["c3"], 2, 1, bias=False)
        self.aux1_out = nn.Conv2d(w["c1"], 2, 1, bias=False)  # training heads: loaded, unused
        self.aux2_out = nn.Conv2d(w["c2"], 2, 1, bias=False)
        self.max_bin, self.output_bin = n_fft // 2, n_fft // 2 + 1

    def forward(self, x):
        """Magnitudes (B, 2, bins+1, frames) → mask of the same shape."""
        x = x[:, :, :self.max_bin]
        half = x.shape[2] // 2
        aux1 = torch.cat([self.stg1_low_band_net(x[:, :, :half]),
                          self.stg1_high_band_net(x[:, :, half:])], dim=2)
        aux2 = self.stg2_full_band_net(self.stg2_bridge(torch.cat([x, aux1], dim=1)))
        h = self.stg3_full_band_net(self.stg3_bridge(torch.cat([x, aux1, aux2], dim=1)))
        mask = torch.sigmoid(self.out(h))
        return F.pad(mask, (0, 0, 0, self.output_bin - mask.shape[2]), mode="replicate")


# ---------------------------------------------------------------- new: CascadedNet
class NewEncoder(nn.Module):
    def __init__(self, nin, nout):
        super().__init__()
        self.conv1 = ConvBNAct(nin, nout, 3, 2, 1, act=nn.LeakyReLU)
        self.conv2 = ConvBNAct(nout, nout, 3, 1, 1, act=nn.LeakyReLU)

    def forward(self, x):
        return self.conv2(self.conv1(x))


class NewDecoder(nn.Module):
    def __init__(self, nin, nout):
        super().__init__()
        self.conv1 = ConvBNAct(nin, nout, 3, 1, 1)

    def forward(self, x, skip=None):
        return self.conv1(_up_cat(x, skip))


class NewASPP(nn.Module):
    def __init__(self, nin, nout, dil=((4, 2), (8, 4), (12, 6))):
        super().__init__()
        self.conv1 = nn.Sequential(nn.AdaptiveAvgPool2d((1, None)), ConvBNAct(nin, nout, 1, 1, 0))
        self.conv2 = ConvBNAct(nin, nout, 1, 1, 0)
        self.conv3 = ConvBNAct(nin, nout, 3, 1, dil[0], dil[0])
        self.conv4 = ConvBNAct(nin, nout, 3, 1, dil[1], dil[1])
        self.conv5 = ConvBNAct(nin, nout, 3, 1, dil[2], dil[2])
        self.bottleneck = ConvBNAct(nout * 5, nout, 1, 1, 0)

    def forward(self, x):
        feats = [_pool_branch(self.conv1, x), self.conv2(x), self.conv3(x), self.conv4(x),
                 self.conv5(x)]
        return self.bottleneck(torch.cat(feats, dim=1))


class LstmRows(nn.Module):
    """One channel per frame, a BiLSTM over time with the frequency rows as features."""

    def __init__(self, nin_conv, nin_lstm, nout_lstm):
        super().__init__()
        self.conv = ConvBNAct(nin_conv, 1, 1, 1, 0)
        self.lstm = nn.LSTM(input_size=nin_lstm, hidden_size=nout_lstm // 2, bidirectional=True)
        self.dense = nn.Sequential(nn.Linear(nout_lstm, nin_lstm), nn.BatchNorm1d(nin_lstm),
                                   nn.ReLU())

    def forward(self, x):
        n, _, rows, frames = x.shape
        h = self.conv(x)[:, 0].permute(2, 0, 1)  # frames, batch, rows
        h, _ = self.lstm(h)
        h = self.dense(h.reshape(-1, h.shape[-1])).reshape(frames, n, 1, rows)
        return h.permute(1, 2, 3, 0)


class NewUNet(nn.Module):
    def __init__(self, nin, nout, nin_lstm, nout_lstm):
        super().__init__()
        self.enc1 = ConvBNAct(nin, nout, 3, 1, 1)
        self.enc2 = NewEncoder(nout, nout * 2)
        self.enc3 = NewEncoder(nout * 2, nout * 4)
        self.enc4 = NewEncoder(nout * 4, nout * 6)
        self.enc5 = NewEncoder(nout * 6, nout * 8)
        self.aspp = NewASPP(nout * 8, nout * 8)
        self.dec4 = NewDecoder(nout * (6 + 8), nout * 6)
        self.dec3 = NewDecoder(nout * (4 + 6), nout * 4)
        self.dec2 = NewDecoder(nout * (2 + 4), nout * 2)
        self.lstm_dec2 = LstmRows(nout * 2, nin_lstm, nout_lstm)
        self.dec1 = NewDecoder(nout * (1 + 2) + 1, nout)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        e4 = self.enc4(e3)
        h = self.dec2(self.dec3(self.dec4(self.aspp(self.enc5(e4)), e4), e3), e2)
        return self.dec1(torch.cat([h, self.lstm_dec2(h)], dim=1), e1)


class NewCascaded(nn.Module):
    offset = 64
    kind = "new"

    def __init__(self, n_fft, w: dict):
        super().__init__()
        nout, lstm, rows = w["nout"], w["nout_lstm"], (n_fft // 2) // 2
        self.stg1_low_band_net = nn.Sequential(NewUNet(2, nout // 2, rows // 2, lstm),
                                               ConvBNAct(nout // 2, nout // 4, 1, 1, 0))
        self.stg1_high_band_net = NewUNet(2, nout // 4, rows // 2, lstm // 2)
        self.stg2_low_band_net = nn.Sequential(NewUNet(nout // 4 + 2, nout, rows // 2, lstm),
                                               ConvBNAct(nout, nout // 2, 1, 1, 0))
        self.stg2_high_band_net = NewUNet(nout // 4 + 2, nout // 2, rows // 2, lstm // 2)
        self.stg3_full_band_net = NewUNet(3 * nout // 4 + 2, nout, rows, lstm)
        self.out = nn.Conv2d(nout, 2, 1, bias=False)
        self.aux_out = nn.Conv2d(3 * nout // 4, 2, 1, bias=False)  # training head
        self.max_bin, self.output_bin = n_fft // 2, n_fft // 2 + 1

    def forward(self, x):
        x = x[:, :, :self.max_bin]
        half = x.shape[2] // 2
        l1_in, h1_in = x[:, :, :half], x[:, :, half:]
        l1, h1 = self.stg1_low_band_net(l1_in), self.stg1_high_band_net(h1_in)
        l2 = self.stg2_low_band_net(torch.cat([l1_in, l1], dim=1))
        h2 = self.stg2_high_band_net(torch.cat([h1_in, h1], dim=1))
        f3 = self.stg3_full_band_net(torch.cat([x, torch.cat([l1, h1], dim=2),
                                                torch.cat([l2, h2], dim=2)], dim=1))
        mask = torch.sigmoid(self.out(f3))
        return F.pad(mask, (0, 0, 0, self.output_bin - mask.shape[2]), mode="replicate")


# ---------------------------------------------------------------- from a state dict
def _shape(sd, key):
    if key not in sd:
        raise KeyError(key)
    return tuple(sd[key].shape)


def widths(sd: dict) -> tuple[str, dict]:
    """("old" | "new", the widths the network class needs), read from keys and shapes."""
    if "stg1_low_band_net.0.enc1.conv.0.weight" in sd:
        return "new", {"nout": _shape(sd, "out.weight")[1],
                       "nout_lstm": 2 * _shape(sd, "stg3_full_band_net.lstm_dec2.lstm."
                                                   "weight_hh_l0")[1],
                       "rows": _shape(sd, "stg3_full_band_net.lstm_dec2.lstm.weight_ih_l0")[1]}
    branches = 5 + sum(f"stg1_low_band_net.aspp.conv{i}.conv.0.weight" in sd for i in (6, 7))
    return "old", {"c1": _shape(sd, "stg1_low_band_net.enc1.conv1.conv.0.weight")[0],
                   "b2": _shape(sd, "stg2_bridge.conv.0.weight")[0],
                   "c2": _shape(sd, "stg2_full_band_net.enc1.conv1.conv.0.weight")[0],
                   "b3": _shape(sd, "stg3_bridge.conv.0.weight")[0],
                   "c3": _shape(sd, "stg3_full_band_net.enc1.conv1.conv.0.weight")[0],
                   "branches": branches, "five": "stg1_low_band_net.enc5.conv1.conv.0.weight" in sd}


def net_kind(sd: dict) -> str:
    return "new" if "stg1_low_band_net.0.enc1.conv.0.weight" in sd else "old"


def build(sd: dict, n_fft: int, name: str) -> nn.Module:
    """The network for state dict ``sd`` with ``n_fft`` = 2 × the layout's bins, loaded
    strictly; a mismatch is a sentence naming the file."""
    try:
        kind, w = widths(sd)
        if kind == "new" and w["rows"] != n_fft // 4:
            raise StepError(f"{name} is a VR model for {w['rows'] * 2} bins, not the "
                            f"{n_fft // 2} of its model parameters",
                            "Give the model parameters JSON that came with it (vr_params).")
        net = (NewCascaded if kind == "new" else OldCascaded)(n_fft, w)
        net.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    except StepError:
        raise
    except (KeyError, RuntimeError, ValueError) as exc:
        raise StepError(f"{name} is not a VR-architecture model UVR5 would load "
                        f"({str(exc).splitlines()[0][:160]})",
                        "Use a VR .pth (HP2/HP3/HP5, VR-DeEcho*) or pick another family.") \
            from exc
    return net.eval()
