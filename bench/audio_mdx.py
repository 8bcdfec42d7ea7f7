"""MDX-Net path cost and memory with upstream's dereverb geometry (n_fft 6144, hop 1024,
dim_f 3072, dim_t 512) and a stand-in 1×1-convolution ONNX model (no weights needed): the
spectrogram plumbing's speed, and peak memory for a short and a 3× longer file, which
should match if windows stream. Usage: .venv/bin/python -m bench audio_mdx"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
import numpy as np, soundfile as sf
from engine.audio.decode import iter_blocks, probe
from engine.audio.mdx import MDX_SR, MdxModel
from engine.audio.separation.segment import stereo_at
path, model = sys.argv[1], sys.argv[2]
m = MdxModel(__import__("pathlib").Path(model), n_fft=6144, output="residual")
info = probe(path)
t = time.perf_counter()
n = 0
for block in m.stream(stereo_at(iter_blocks(path, info), info.sample_rate, MDX_SR)):
    n += block.shape[0]
dt = time.perf_counter() - t
hwm = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({"seconds": n / 44100, "wall": dt, "peak_mb": hwm}))
"""


def _model(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape = [1, 4, 3072, 512]
    w = np.random.default_rng(0).standard_normal((4, 4, 1, 1)).astype(np.float32) * 0.1
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input", "w"], ["output"])], "stand_in",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def main() -> None:
    import soundfile as sf

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "onnx_dereverb_stand_in.onnx"
        _model(model)
        rng = np.random.default_rng(0)
        for minutes in (1, 3):
            path = Path(tmp) / f"{minutes}min.wav"
            with sf.SoundFile(str(path), "w", 44100, 2, "PCM_16") as f:
                for _ in range(minutes * 6):
                    f.write((rng.standard_normal((441000, 2)) * 0.1).astype(np.float32))
            out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(model)],
                                 cwd=REPO, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(f"| {minutes} min 44.1 kHz stereo | {r['seconds'] / r['wall']:.1f}× "
                        f"real time | {r['peak_mb']:.0f} MB |")
    text = ["## MDX-Net path (stand-in model, upstream dereverb geometry)", "",
            f"{os.cpu_count()} cores; `python -m bench audio_mdx`. Speed here is the STFT/ISTFT "
            "and two model calls per window (sign-flip averaging) with a trivial model; a real "
            "MDX-Net adds its own compute. Peak memory (VmHWM) should not grow with length.", "",
            "| Input | Speed | Peak memory |", "|---|---|---|"] + rows
    print("\n".join(text))
    sys.path.insert(0, str(REPO))
    from bench.audio_slice import _record

    _record("## MDX-Net path", "\n".join(text) + "\n")


if __name__ == "__main__":
    main()
