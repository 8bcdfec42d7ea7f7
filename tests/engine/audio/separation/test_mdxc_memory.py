"""Bounded memory: 5 minutes of 8 kHz stereo through a tiny Mel-Band-RoFormer in a real child
process, its peak RSS read by the kernel (VmHWM, reset just before the call).

Bound (mdxc.py): one ``separate`` call holds the wave, its padded copy, one accumulator per
network output, a float of weight per sample and the returned pair, plus a batch of chunks
in the network: at most 6 × the wave's bytes + 64 MiB above what the process held before
(measured: about 4.6x on this test)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.engine.audio.separation.tiny_mdxc import SR, make_pair

MINUTES = 5  # 2.4 M samples a channel: more than the 30 s segments at 44.1 kHz that
#             the Clean step feeds one call (segment.SEGMENT_S), by 1.8x
CHILD = r"""
import json, sys, torch
import numpy as np
torch.set_num_threads(1)
from engine.audio.separation.mdxc import load_mdxc

def status(field):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(field + ":"))

sep = load_mdxc(sys.argv[1], sys.argv[2], "cpu")
n = int(sys.argv[3])
wave = np.empty((2, n), np.float32)
rng = np.random.default_rng(0)
for i in range(0, n, 1 << 20):  # filled in blocks: no float64 temporaries of the whole
    wave[:, i:i + (1 << 20)] = rng.standard_normal((2, min(1 << 20, n - i)), np.float32) * 0.1
calls = []
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the kernel's peak RSS (VmHWM) starts again from the current RSS
before = status("VmRSS")
voice, rest = sep.separate(wave, calls.append)
peak = status("VmHWM")
print(json.dumps({"before": before, "peak": peak, "calls": len(calls),
                  "shape": list(voice.shape), "finite": bool(np.isfinite(voice).all())}))
"""


def test_five_minutes_stay_under_the_bound(tmp_path):
    ckpt, yaml = make_pair(tmp_path, "mel_band_roformer", chunk=SR, overlap=2, batch=4)
    n = SR * 60 * MINUTES
    out = subprocess.run([sys.executable, "-c", CHILD, str(ckpt), str(yaml), str(n)],
                         capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[4])
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["shape"] == [2, n] and got["finite"]
    assert got["calls"] > 100  # progress per batch of chunks
    wave_bytes = 2 * n * 4
    grew = got["peak"] - got["before"]
    print(f"grew {grew / 2**20:.0f} MiB = {grew / wave_bytes:.2f} x the wave")
    assert grew < 6 * wave_bytes + (64 << 20), (grew / wave_bytes, got)
