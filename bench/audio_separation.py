"""Bench: the Clean step's VR separation on a long recording, in a child process each run:
peak memory (VmHWM, whole process) and CPU seconds, for a tiny random VR model of each
network kind (the real models cost more CPU per second of audio, not more memory per
segment beyond their activations: those are bounded by the window, not the file).

    .venv/bin/python bench/audio_separation.py --minutes 10 [--segment 30] [--whole]

--whole sets the segment to the file's length (what holding the file would cost), for
comparison. Results: bench/results/audio_separation.md (load average recorded)."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, sys, time, torch
torch.set_num_threads(1)
from engine.audio.denoise_step import DenoiseRequest, run_denoise
before = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
t0 = time.process_time()
req = DenoiseRequest(project_root=sys.argv[1], method="models", models=[sys.argv[2]],
                     segment_s=float(sys.argv[3]), device="cpu")
events = list(run_denoise(req))
hwm = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({"peak_mb": hwm, "after_imports_mb": before,
                  "cpu_s": time.process_time() - t0, "result": getattr(events[-1], "summary", repr(events[-1]))}))
"""


def make_long(path: Path, minutes: float, sr: int = 44100) -> None:
    import numpy as np
    import soundfile as sf

    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", sr, 2, "PCM_16") as f:
        for k in range(int(minutes * 6)):  # 10 s blocks: tone bursts over noise
            t = np.arange(10 * sr) / sr
            tone = 0.3 * np.sin(2 * np.pi * (180 + 20 * k % 200) * t) * (np.sin(t) > 0)
            x = tone[:, None] + 0.02 * rng.standard_normal((t.size, 2))
            f.write(x.astype(np.float32))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--segment", type=float, default=30)
    ap.add_argument("--whole", action="store_true")
    ap.add_argument("--kinds", default="old,new")
    a = ap.parse_args()
    sys.path.insert(0, str(REPO / "tests/engine/audio/separation"))
    from tiny_vr import save_vr

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        (root / "audio/raw").mkdir(parents=True)
        make_long(root / "audio/raw/long.wav", a.minutes)
        seg = a.minutes * 60 + 1 if a.whole else a.segment
        for kind in a.kinds.split(","):
            model = save_vr(Path(tmp) / f"VR-{kind}.pth", kind)
            env = {**os.environ, "GSV_HOME": str(Path(tmp) / "home")}
            out = subprocess.run([sys.executable, "-c", CHILD, str(root), str(model), str(seg)],
                                 cwd=REPO, env=env, capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(out.stderr[-2000:])
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{kind}: {a.minutes:g} min, segment {seg:g} s: peak {r['peak_mb']:.0f} MB "
                  f"(after imports {r['after_imports_mb']:.0f} MB), CPU {r['cpu_s']:.0f} s, "
                  f"load {os.getloadavg()[0]:.1f}")
            for f in (root / "audio/clean").glob("*.wav"):
                f.unlink()
            (root / "audio/clean/manifest.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
