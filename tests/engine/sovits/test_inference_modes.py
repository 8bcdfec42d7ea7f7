"""The faster inference paths give the same audio: folded weight norm and the windowed late
generator stages exactly (fp32), the bf16 generator within a few percent."""
from __future__ import annotations

import numpy as np
import torch

from engine.models.sovits.config import tiny_config
from engine.models.sovits.synthesizer import Synthesizer

from .conftest import golden


def _tiny():
    torch.manual_seed(3)
    m = Synthesizer(tiny_config())
    with torch.no_grad():  # non-degenerate decoder (random weight_g like the fixtures)
        for name, p in m.named_parameters():
            if name.endswith("weight_g"):
                p.uniform_(0.7, 1.3)
    return m.prepare_inference()


def test_windowed_generator_equals_full_pass():
    dec = _tiny().dec
    dec.window = 40  # stage-1 input samples: several windows even for short inputs
    g = torch.randn(1, 32, 1)
    with torch.no_grad():
        for t in (3, 9, 31):  # one window, and several
            z = torch.randn(1, 8, t)
            full, win = dec(z, g, windowed=False), dec(z, g)
            assert win.shape == full.shape == (1, 1, t * 640)
            np.testing.assert_allclose(win.numpy(), full.numpy(), atol=1e-6)


def test_full_size_windowed_generator_is_exact():
    from engine.models.sovits.config import SovitsConfig

    torch.manual_seed(0)
    dec = Synthesizer(SovitsConfig()).prepare_inference().dec
    z, g = torch.randn(1, 192, 120) * 0.5, torch.randn(1, 512, 1)
    with torch.no_grad():
        assert dec.window_stage == 1 and 120 * 10 > dec.window + 2 * dec.halo  # 2 windows
        np.testing.assert_allclose(dec(z, g).numpy(), dec(z, g, windowed=False).numpy(),
                                   atol=1e-6)


def test_bf16_decode_close_to_fp32(upstream_small_pth, inputs):
    from engine.models.sovits.checkpoint import build_model, read_sovits_file

    m = build_model(read_sovits_file(upstream_small_pth)).prepare_inference("bf16")
    spec = torch.from_numpy(golden("sovits_spectrogram")["spec"])
    out = m.decode(torch.from_numpy(inputs["codes"]), torch.from_numpy(inputs["text"]), [spec],
                   noise_scale=0.0)
    ref = golden("sovits_decode_ns0")["audio"]
    assert out.dtype == torch.float32 and out.shape == ref.shape
    rel = np.sqrt(np.mean((out.numpy() - ref) ** 2) / np.mean(ref ** 2))
    assert rel < 0.05, rel


def test_bf16_then_fp32_is_exact_again(upstream_small_pth, inputs):
    from engine.models.sovits.checkpoint import build_model, read_sovits_file

    from .conftest import assert_close

    m = build_model(read_sovits_file(upstream_small_pth))
    m.prepare_inference("bf16").prepare_inference("fp32")  # parameters were never cast
    spec = torch.from_numpy(golden("sovits_spectrogram")["spec"])
    out = m.decode(torch.from_numpy(inputs["codes"]), torch.from_numpy(inputs["text"]), [spec],
                   noise_scale=0.0)
    assert_close(out, golden("sovits_decode_ns0")["audio"])
    assert all(p.dtype == torch.float32 for p in m.parameters())
