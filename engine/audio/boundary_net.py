"""A learned sentence-boundary model: a small dilated 1-D conv net over a spectral front end.

The hand-made cues of engine/audio/boundary.py miss where tones hide the declination
(Mandarin) and where reverberation moves the energy valley off the dry junction. This
model reads, on the slicer's 10 ms frame grid (frame j centred at sample j*hop), the log
mel bands of a copy decimated to ~8 kHz (speech below 4 kHz), the frame level and the
pitch/voicing that boundary.pitch measures, each normalised over the clip (so gain and
noise floor drop out), and gives the log-odds that a cut at each frame falls between two
sentences. Residual dilated convolutions (kernel 3; the shipped nets run on steps of two
frames, dilations 1..128 steps: about ±5 s of context) do the work: one pass gives
every frame of the clip. numpy and scipy only (no torch in the slice path); the weights
come from bench/fit_boundary_net.py (see the header of boundary_net_weights.py for what
they were fitted on).
"""
from __future__ import annotations

import base64
import functools
from typing import Optional

import numpy as np

RATE = 8000  # Hz: the front end's decimated rate
N_FFT = 256  # window and FFT length at RATE (32 ms)
N_MEL = 32
F_LO, F_HI = 60.0, 3800.0
REL_FLOOR = 1e-5  # power floor relative to the clip's mean: digital silence stays finite
SCALE = 3.0  # log-power units per input unit
N_IN = N_MEL + 3  # mel bands, level, pitch, voicing


@functools.lru_cache(maxsize=8)
def _mel(fs: float) -> np.ndarray:
    """Triangular filters on the mel scale over the rfft bins, (N_MEL, N_FFT//2+1)."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    edges = 700.0 * (10 ** (np.linspace(mel(F_LO), mel(min(F_HI, 0.475 * fs)), N_MEL + 2)
                            / 2595.0) - 1.0)
    freqs = np.arange(N_FFT // 2 + 1) * fs / N_FFT
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    w = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    return (w / np.maximum(w.sum(1, keepdims=True), 1e-9)).astype(np.float32)


def _decimated(x, lo: int, hi: int, dec: int) -> np.ndarray:
    """Means of ``dec`` consecutive samples of x[lo:hi] (zeros outside x), by strided sums:
    a reduction over a short axis is several times slower in numpy."""
    a, b = max(lo, 0), min(hi, int(x.shape[0]))
    if a == lo and b == hi:
        seg = np.asarray(x[lo:hi], np.float32)
    else:
        seg = np.zeros(hi - lo, np.float32)
        if b > a:
            seg[a - lo:b - lo] = x[a:b]
    if dec == 1:
        return seg.copy()
    m = seg.size // dec
    y = seg[0:m * dec:dec].copy()
    for k in range(1, dec):
        y += seg[k:m * dec:dec]
    y *= np.float32(1.0 / dec)
    return y


def _frames(y: np.ndarray, n: int, hop: int, dec: int) -> np.ndarray:
    """(n, N_FFT) Hann-windowed frames of y, frame j starting at round(j*hop/dec)."""
    window = np.hanning(N_FFT).astype(np.float32)
    if hop % dec == 0 and (n - 1) * (hop // dec) + N_FFT <= y.size:
        view = np.lib.stride_tricks.sliding_window_view(y, N_FFT)[::hop // dec][:n]
        return view * window
    starts = np.round(np.arange(n) * hop / dec).astype(np.int64)
    starts = np.minimum(starts, max(0, y.size - N_FFT))
    return y[starts[:, None] + np.arange(N_FFT)] * window


def front_end(x, f0: int, f1: int, hop: int, sr: int, rows: int = N_IN,
              every: int = 1) -> np.ndarray:
    """(rows, frames) float32 inputs for frames f0, f0 + every, ... below f1 of ``x``: the
    first ``rows`` of mel bands, level, pitch, voicing (N_MEL + 1 rows: no pitch
    measured). Every second frame is half the work, and the same numbers as every frame's
    even columns normalised over those columns (the pitch is measured every 20 ms either
    way; only the digital-silence floor moves: bench.fit_boundary_net.every_frames)."""
    from scipy.fft import rfft  # several times numpy's on float32 frames

    from engine.audio.boundary import PITCH_STEP, pitch

    n = -(-(f1 - f0) // every)
    hop_f = hop * every  # samples between the frames measured
    dec = max(1, int(round(sr / RATE)))
    fs = sr / dec
    half = N_FFT // 2 * dec
    y = _decimated(x, f0 * hop - half, (f1 - 1) * hop + half + dec, dec)
    y -= y.mean()
    spec = rfft(_frames(y, n, hop_f, dec), axis=1)
    power = spec.real ** 2
    power += spec.imag ** 2
    mel = power @ _mel(fs).T  # (n, N_MEL)
    floor = np.float32(REL_FLOOR) * max(float(mel.mean()), 1e-30)
    logm = np.log(mel + floor)
    level = np.log(mel.sum(1) + N_MEL * floor)
    out = np.empty((N_IN, n), np.float32)
    out[:N_MEL] = ((logm - np.median(logm, 0)) / SCALE).T
    out[N_MEL] = (level - np.percentile(level, 95)) / SCALE
    if rows <= N_MEL + 1:
        return out[:rows]
    # boundary.pitch's voicing of faint frames depends on the absolute level (its energy
    # floor): measured on a copy brought to -20 dBFS, the answer does not
    a0, b0 = max(0, f0 * hop - sr), min(int(x.shape[0]), f1 * hop + sr)
    part = np.asarray(x[a0:b0], np.float32)
    rms = float(np.sqrt(np.dot(part, part) / part.size)) if part.size else 0.0
    semi, voic = pitch(part, f0 * hop - a0, n, hop_f, sr, gain=0.1 / rms if rms > 1e-9 else 1.0,
                       step=max(1, PITCH_STEP // every))
    # near digital silence the autocorrelation is rounding noise: no voicing there
    voic = np.where(mel.sum(1) > 1e-3 * max(float(mel.sum(1).mean()), 1e-30), voic, 0.0)
    on = voic > 0.5
    ref = float(np.median(semi[on])) if on.any() else 0.0
    out[N_MEL + 1] = np.where(on, (semi - ref) / 6.0, 0.0)
    out[N_MEL + 2] = voic * 2.0 - 1.0
    return out


@functools.lru_cache(maxsize=1)
def weights() -> list[dict]:
    """The fitted nets (an ensemble whose log-odds are averaged), each {'dilations': [...],
    name: float32 array, ...}."""
    from engine.audio import boundary_net_weights

    return decode(boundary_net_weights)


def decode(bw) -> list[dict]:
    """A weights module (DILATIONS, STRIDE (1 if absent), SHAPES, and BLOBS: one base64
    float16 string a member, or BLOB for a single net) as weights() gives it."""
    out = []
    for blob in getattr(bw, "BLOBS", None) or (bw.BLOB,):
        raw = np.frombuffer(base64.b64decode(blob), dtype="<f2").astype(np.float32)
        net, k = {"dilations": list(bw.DILATIONS), "stride": int(getattr(bw, "STRIDE", 1))}, 0
        for name, shape in bw.SHAPES:
            size = int(np.prod(shape))
            net[name] = raw[k:k + size].reshape(shape)
            k += size
        if k != raw.size:
            raise ValueError("boundary_net_weights: blob length does not match its shapes")
        net["every"] = net["stride"] // net["inp.w"].shape[2]  # front-end frames a column
        out.append(net)
    return out


def forward(z: np.ndarray, w: dict, n: int | None = None) -> np.ndarray:
    """One net's log-odds for ``n`` frames from its front-end inputs (N_IN, T): the conv
    net of the module docstring (zero padding at the clip's ends, like torch's Conv1d
    padding). Each layer is one matmul of the kernel laid out as (C, 3C) over the stacked
    shifted copies (the forward is compute-bound: one call instead of three and two sums).
    With a stride s the layers run on steps of s frames and the output layer gives s
    log-odds a step; the input layer reads its K columns a step (K = s: a column every
    frame; K = 1: the front end every s frames, T = ceil(n / s))."""
    z = z[:w["inp.w"].shape[1]]  # the rows this net reads (the first ones)
    s, reads, t_in = w.get("stride", 1), w["inp.w"].shape[2], z.shape[1]
    n = t_in * (s // reads) if n is None else n
    steps = -(-t_in // reads)
    if reads > 1:  # (N_IN, T) -> (N_IN * K, steps), row i*K + k holding column K*step + k
        zz = np.zeros((z.shape[0], steps * reads), np.float32)
        zz[:, :t_in] = z
        z = zz.reshape(z.shape[0], steps, reads).transpose(0, 2, 1).reshape(-1, steps)
    h = _flat(w, "inp.w") @ z + w["inp.b"][:, None]
    c, t = h.shape
    stack = np.zeros((3 * c, t), np.float32)
    for i, d in enumerate(w["dilations"]):
        stack[c:2 * c] = h
        if d < t:
            stack[:c, d:], stack[:c, :d] = h[:, :t - d], 0.0
            stack[2 * c:, :t - d], stack[2 * c:, t - d:] = h[:, d:], 0.0
        else:
            stack[:c], stack[2 * c:] = 0.0, 0.0
        u = _taps(w, i) @ stack
        u += w[f"c{i}.b"][:, None]
        np.maximum(u, 0.0, out=u)
        h += u
    y = w["out.w"][:, :, 0] @ h + w["out.b"][:, None]  # (s, steps)
    return y[0] if s == 1 else y.T.reshape(-1)[:n]


def _flat(w: dict, name: str) -> np.ndarray:
    """A kernel (C, I, K) as (C, I*K), column i*K + k (the input layer's s frames a step)."""
    key = name + ".flat"
    if key not in w:
        k = w[name]
        w[key] = np.ascontiguousarray(k.reshape(k.shape[0], -1))
    return w[key]


def _taps(w: dict, i: int) -> np.ndarray:
    """Layer i's kernel (C, C, 3) as (C, 3C), columns in the stack's order: tap 0 reads
    the frame d before, tap 1 the frame itself, tap 2 the frame d after."""
    key = f"c{i}.taps"
    if key not in w:
        k = w[f"c{i}.w"]
        w[key] = np.ascontiguousarray(k.transpose(0, 2, 1).reshape(k.shape[0], -1))
    return w[key]


def log_odds(z: np.ndarray, members: list[dict] | None = None, n: int | None = None
             ) -> np.ndarray:
    """The ensemble's answer for ``n`` frames: the members' log-odds averaged (they share
    the front end)."""
    members = members or weights()
    return sum(forward(z, w, n) for w in members) / len(members)


def scorer(x, rms: np.ndarray, f0: int, f1: int, hop: int, sr: int,
           rows: Optional[np.ndarray] = None) -> np.ndarray:
    """splitpoints.BoundaryScorer: log-odds per frame f0..f1-1 (or at ``rows``). The net
    runs over the whole range either way (its context is the clip)."""
    z = answer(x, f0, f1, hop, sr)
    return z if rows is None else z[rows]


def answer(x, f0: int, f1: int, hop: int, sr: int, members: list[dict] | None = None
           ) -> np.ndarray:
    """The members' log-odds for frames f0..f1-1, from the front end they read (its
    first rows, every frame or every few)."""
    members = members or weights()
    every = {w["every"] for w in members}
    if len(every) != 1:
        raise ValueError("boundary_net: the members must read the front end at one rate")
    # the pitch costs half the front end: measured only when a member reads it
    rows = max(int(w["inp.w"].shape[1]) for w in members)
    return log_odds(front_end(x, f0, f1, hop, sr, rows, every.pop()), members, f1 - f0)


# every frame costs what the valley rows cost: the planner asks once, for all frames
scorer.all_frames = True
# and may cut anywhere: the net places the cut at the dry junction, which reverberation
# moves off the energy valley (benchmark seeds 2, 3, 6, 7 with the shipped weights: 11
# sentences cut with the feature model's 20-nat price off the valleys, 8 without)
scorer.off_valley = 0.0
