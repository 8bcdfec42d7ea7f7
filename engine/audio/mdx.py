"""UVR-style MDX-Net ONNX separation, streamed in bounded memory.

Facts carried over from upstream's UVR5 integration: 44.1 kHz stereo input; the model sees
a spectrogram (n_fft, hop 1024, periodic Hann, centred) cut to ``dim_f`` bins and ``dim_t``
frames, as 4 channels [L.re, L.im, R.re, R.im]; windows of hop × (dim_t − 1) samples keep
their centre (n_fft/2 trimmed each side); "denoise" averages the model on x and −(−x).
The FoxJoy dereverb model (n_fft 6144, dim_f 3072, dim_t 512) predicts the part to remove,
so the voice is mix − prediction. Here the windows are pulled through a generator, so a
2-hour file holds only a couple of windows at a time (upstream loads it whole).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from engine.audio.stft import istft, segments, stft
from engine.events import StepError

MDX_SR = 44100


@dataclass(frozen=True)
class MdxSpec:
    n_fft: int
    hop: int
    dim_f: int
    dim_t: int
    residual: bool  # the model predicts what to remove (dereverb, instrumental models)
    sign_flip: bool = True

    @property
    def chunk(self) -> int:
        return self.hop * (self.dim_t - 1)

    @property
    def trim(self) -> int:
        return self.n_fft // 2

    @property
    def gen(self) -> int:
        return self.chunk - 2 * self.trim


def guess_residual(name: str) -> bool:
    n = name.lower()
    return "dereverb" in n or "reverb" in n or "inst" in n or "echo" in n


def guess_n_fft(name: str) -> int:
    n = name.lower()
    return 6144 if ("dereverb" in n or "foxjoy" in n or "inst" in n) else 7680


class MdxModel:
    """One ONNX model and its spectrogram geometry (dims read from the model when fixed)."""

    def __init__(self, path: Path, *, n_fft: int = 0, hop: int = 1024, output: str = "auto",
                 threads: int = 0) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), opts,
                                                providers=ort.get_available_providers())
        except Exception as exc:  # noqa: BLE001
            raise StepError(f"Cannot load {path.name} as an ONNX model ({str(exc)[:120]})",
                            "Use an MDX-Net .onnx file from UVR (e.g. onnx_dereverb_By_FoxJoy)."
                            ) from exc
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        shape = list(inp.shape)
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 4):
            raise StepError(f"{path.name} takes input {shape}, not an MDX-Net spectrogram "
                            "[batch, 4, freq, time]", "Pick an MDX-Net ONNX model.")
        where = str(path).lower()
        dereverb = "dereverb" in where or "foxjoy" in where
        dim_f = shape[2] if isinstance(shape[2], int) else 3072
        dim_t = shape[3] if isinstance(shape[3], int) else (512 if dereverb else 256)
        residual = guess_residual(str(path)) if output == "auto" else output == "residual"
        self.spec = MdxSpec(n_fft or guess_n_fft(str(path)), hop, dim_f, dim_t, residual)
        if self.spec.gen <= 0 or self.spec.dim_f > self.spec.n_fft // 2 + 1:
            raise StepError(f"{path.name}: n_fft {self.spec.n_fft} does not fit the model's "
                            f"{dim_f}×{dim_t} input", "Set mdx_n_fft to the model's FFT size.")
        self.name = path.name
        self.size = path.stat().st_size

    def _run(self, spec_in: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: spec_in})[0]

    def window(self, window: np.ndarray) -> np.ndarray:
        """(chunk, 2) mix → (chunk, 2) voice."""
        s = self.spec
        x = window.T.astype(np.float32)
        spec = stft(x, s.n_fft, s.hop)[:, :s.dim_f]  # (2, dim_f, dim_t)
        feats = np.stack([spec.real, spec.imag], axis=1).reshape(1, 4, s.dim_f, s.dim_t)
        feats = feats.astype(np.float32)
        pred = self._run(feats)
        if s.sign_flip:
            pred = 0.5 * pred - 0.5 * self._run(-feats)
        pred = pred.reshape(2, 2, s.dim_f, s.dim_t)
        full = np.zeros((2, s.n_fft // 2 + 1, s.dim_t), dtype=np.complex64)
        full[:, :s.dim_f] = pred[:, 0] + 1j * pred[:, 1]
        est = istft(full, s.n_fft, s.hop, s.chunk).T
        return window - est if s.residual else est

    def stream(self, blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """Stereo 44.1 kHz blocks in, voice blocks out, one model window at a time."""
        yield from segments(blocks, self.spec.gen, self.spec.trim, self.window)
