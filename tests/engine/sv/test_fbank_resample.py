"""The front end: our Kaldi fbank and 32 -> 16 kHz resampler against upstream's outputs."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.models.sv.fbank import fbank, n_frames
from engine.models.sv.resample import _kernel, resample, to_16k
from tests.engine.sv.conftest import load_npz


@pytest.mark.parametrize("wav,feat,frames", [("wav16_a", "feat_a", 198), ("wav16_b", "feat_b", 328)])
def test_fbank_matches_upstream_kaldi(inputs, wav, feat, frames):
    ref = load_npz("sv_fbank.npz")[feat]
    got = fbank(torch.from_numpy(inputs[wav]))
    assert got.shape == (1, frames, 80) and got.dtype == torch.float32
    assert n_frames(inputs[wav].shape[-1]) == frames
    # README: atol 1e-3. Ours follows the same float32 operations, so it lands far inside.
    assert float(np.abs(got[0].numpy() - ref).max()) <= 1e-5


def test_fbank_rows_are_independent(inputs):
    a, b = inputs["wav16_a"], inputs["wav16_b"][:, :32000]
    both = fbank(torch.from_numpy(np.concatenate([a, b])))
    assert torch.equal(both[0], fbank(torch.from_numpy(a))[0])
    assert torch.equal(both[1], fbank(torch.from_numpy(b))[0])


def test_fbank_refuses_audio_shorter_than_a_frame():
    with pytest.raises(ValueError, match="shorter than one 25 ms frame"):
        fbank(torch.zeros(1, 399))


def test_kaldi_native_fbank_agrees(inputs):
    """An independent implementation (installed with the FunASR extra) as a cross-check."""
    knf = pytest.importorskip("kaldi_native_fbank")
    opts = knf.FbankOptions()
    opts.frame_opts.samp_freq, opts.frame_opts.dither = 16000, 0.0
    opts.mel_opts.num_bins = 80
    opts.use_energy = False
    f = knf.OnlineFbank(opts)
    x = inputs["wav16_b"][0]
    f.accept_waveform(16000, x.tolist())
    f.input_finished()
    theirs = np.stack([f.get_frame(i) for i in range(f.num_frames_ready)])
    ours = fbank(torch.from_numpy(x))[0].numpy()
    assert theirs.shape == ours.shape
    assert float(np.abs(theirs - ours).max()) < 1e-3  # the spec measured 3.1e-4


def test_resampler_matches_upstreams_sinc():
    """The 16 kHz signal upstream's 2-get-sv.py computed from clip_a.wav (its torchaudio
    Resample, through the fixture's stand-in port of the same algorithm)."""
    f = load_npz("sv_format_2_get_sv.npz")
    x = torch.from_numpy(f["wav32k_int16"].astype(np.float32) / 32768.0)
    got = to_16k(x)
    assert got.shape == (1, 24000)
    assert float(np.abs(got.numpy() - f["wav16_standin"]).max()) <= 1e-6


def test_resampler_kernel_is_torchaudios_default():
    kernel, width = _kernel(2, 1)
    assert width == 13 and kernel.shape == (1, 1, 28)  # taps -13 .. 14
    assert kernel.sum().item() == pytest.approx(1.0005, abs=1e-4)  # +0.0043 dB passband


@pytest.mark.parametrize("orig,new,n", [(32000, 16000, 48001), (48000, 32000, 4800),
                                        (16000, 16000, 100)])
def test_resampler_output_lengths(orig, new, n):
    y = resample(torch.randn(2, n), orig, new)
    assert y.shape == (2, math.ceil(n * new / orig))


def test_resampler_keeps_a_low_tone_and_cuts_above_nyquist():
    t = torch.arange(32000) / 32000
    low = to_16k(torch.sin(2 * math.pi * 440 * t))
    high = to_16k(torch.sin(2 * math.pi * 12000 * t))
    assert low[200:-200].abs().max().item() == pytest.approx(1.0, abs=0.01)
    assert high[200:-200].abs().max().item() < 0.01
