"""Fit engine/audio/boundary_net.py's conv net (torch, CPU, deterministic seed).

Training data never holds a benchmark sentence: recordings are built like the benchmark's
(bench/slice_benchmark.dry_recording: paced stretches and 26-34 s runs 0-60 ms apart,
per-sentence gains ±3 dB) from bench/boundary_corpus.py's sentences (three renderings each,
other rates, pitches and English voices), at drawn conditions: clean, white or pink noise
at 5-25 dB SNR, the music bed at 8-20 dB, reverberation with RT60 0.3-0.9 s. The net sees
exactly what the planner hands its scorer (splitpoints.long_clips: the ranges still over
the maximum after the local re-slicing), and learns, per frame, whether a cut there would
count as in a pause (both sides within the 30 ms slack outside every DRY sentence span, so
under reverberation it learns where the dry junction lies, not the wet valley).

Usage: ``.venv/bin/python -m bench.fit_boundary_net [--epochs 20] [--seed 0] [--variants 0 1 2]
[--write [--out PATH]]`` (features cached under the temp dir: building them takes ~6 min
for three renderings, an epoch ~15 s on 2 cores). A variant written with ``--out`` is
scored by ``BOUNDARY_NET_WEIGHTS=PATH python -m bench.slice_benchmark --scorer
bench.net_variant:scorer --seeds 2 3 6 7``: choose on seeds 2, 3, 6, 7 (seeds 2, 3 alone
proved too few: 3 sentences cut there, 8 on 6, 7, for one net), report 0, 1 and 4, 5.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import inspect
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHANNELS = 32
DILATIONS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
GROUP = 31  # sentences per dry recording (each spoken twice by dry_recording)
KINDS = ("clean", "white", "pink", "music", "reverb")
NEAR_S = 0.08  # negatives this close outside a positive stretch weigh NEAR_W
NEAR_W = 3.0
OUT = REPO / "engine" / "audio" / "boundary_net_weights.py"


def condition(dry, kind: str, rng: np.random.Generator):
    """The benchmark's beds and reverb (slice_benchmark._pink/_music/_reverb) at drawn
    levels and reverberation times."""
    from bench import slice_benchmark as sb

    x = dry.audio.astype(np.float64)
    rms = 10 ** (sb.SPEECH_DBFS / 20)
    if kind == "clean":
        y = x
    elif kind == "reverb":
        y = sb._reverb(x, rng, rt60=float(rng.uniform(0.3, 0.9)))
    else:
        bed = {"white": lambda: rng.standard_normal(x.size), "pink": lambda: sb._pink(x.size, rng),
               "music": lambda: sb._music(x.size, rng)}[kind]()
        snr = rng.uniform(8, 20) if kind == "music" else rng.uniform(5, 25)
        y = x + bed * rms / np.sqrt((bed ** 2).mean()) / 10 ** (snr / 20)
    y *= 10 ** (rng.uniform(-6, 6) / 20)  # overall gain: the front end must not care
    return sb.Recording(f"{dry.name} {kind}", y.astype(np.float32), dry.sentences, dry.runs)


def labels(sentences, f0: int, f1: int, hop: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame f0..f1-1: 1 where a cut is in a pause (the benchmark's rule), and the
    loss weight (near misses count NEAR_W)."""
    from bench.slice_benchmark import SLACK_S

    slack = int(SLACK_S * sr)
    p = np.arange(f0, f1) * hop
    inside = np.zeros(p.size, bool)
    for a, b in sentences:
        if b - slack > p[0] and a + slack < p[-1]:
            inside |= (p > a + slack) & (p < b - slack)
    y = (~inside).astype(np.float32)
    near = int(round(NEAR_S * sr / hop))
    from scipy.ndimage import maximum_filter1d

    w = np.where((y == 0) & (maximum_filter1d(y, 2 * near + 1) > 0), NEAR_W, 1.0)
    return y, w.astype(np.float32)


def _key(variants) -> str:
    from bench import boundary_corpus as bc
    from engine.audio import boundary_net as bn
    from engine.audio import splitpoints

    # splitpoints decides which ranges are the over-long clips the nets learn from
    src = "".join(inspect.getsource(f) for f in (condition, labels, build, bn.front_end,
                                                 splitpoints))
    blob = json.dumps([src, bc.TEXTS, GROUP, KINDS, bn.N_IN] + ([] if tuple(variants) == (0, 1, 2)
                      else [list(variants)]), ensure_ascii=False)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def build(variants=(0, 1, 2)) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, str]]:
    """(inputs (N_IN, T), labels, weights, name) for every over-long clip."""
    from bench import boundary_corpus as bc
    from bench import slice_benchmark as sb
    from engine.audio.boundary_net import front_end
    from engine.audio.slicer import FrameGrid, SlicerParams, frame_rms
    from engine.audio.splitpoints import long_clips

    sr, params = sb.SR, SlicerParams()
    g = FrameGrid.of(params, sr)
    out = []
    for li, lang in enumerate(bc.TEXTS):
        for v in variants:
            parts = bc.render(lang, v)
            order = np.random.default_rng([li, v]).permutation(len(parts))
            for gi in range(0, len(parts), GROUP):
                group = [parts[k] for k in order[gi:gi + GROUP]]
                seed = 7919 * li + 104729 * v + gi
                dry = sb.dry_recording(lang, group, seed=seed)
                for ki, kind in enumerate(KINDS):
                    rec = condition(dry, kind, np.random.default_rng([seed, ki]))
                    rms = frame_rms(rec.audio, g.win, g.hop)
                    for s, e in long_clips(rec.audio, sr, params, int(sb.MAX_S * sr), rms):
                        f0, f1 = -(-s // g.hop), min(e // g.hop, rms.shape[0] - 1) + 1
                        if f1 - f0 < 200:
                            continue
                        y, w = labels(rec.sentences, f0, f1, g.hop, sr)
                        out.append((front_end(rec.audio, f0, f1, g.hop, sr), y, w,
                                    f"{rec.name} v{v} g{gi}"))
    return out


def dataset(variants=(0, 1, 2)):
    path = Path(tempfile.gettempdir()) / "gsv_boundary_net" / f"data_{_key(variants)}.npz"
    if path.exists():
        z = np.load(path, allow_pickle=False)
        names = json.loads(str(z["names"]))
        return [(z[f"z{k}"], z[f"y{k}"], z[f"w{k}"], n) for k, n in enumerate(names)]
    data = build(variants)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    arrays = {}
    for k, (z, y, w, _) in enumerate(data):
        arrays.update({f"z{k}": z, f"y{k}": y, f"w{k}": w})
    np.savez(tmp, names=json.dumps([d[3] for d in data]), **arrays)
    os.replace(tmp, path)
    return data


def make_module(n_in: int, channels: int = CHANNELS, dilations=DILATIONS, stride: int = 1,
                every: int = 1, dropout: float = 0.0):
    """The torch twin of boundary_net.forward (also built by the tests from the weights).
    ``mask`` (B, 1, T) zeroes the frames past each clip's end after every layer, so a
    padded batch computes what numpy computes on each clip alone. With ``stride`` s the
    layers run on steps of s frames (the output layer gives s log-odds a step: frame
    resolution kept, the convolutions s times cheaper; dilations count steps); the input
    layer reads s / ``every`` columns a step (``every``: front-end frames a column, the
    front end measured every that many frames). ``mask`` is over frames either way.
    ``dropout``: the share of each residual branch's channels dropped while training
    (inverted scaling, so the numpy forward, which has none, computes the same net)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    if stride % every:
        raise ValueError("the stride must be a multiple of every")
    reads = stride // every

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.dilations, self.stride = list(dilations), stride
            self.inp = nn.Conv1d(n_in, channels, reads, stride=reads)
            self.convs = nn.ModuleList(nn.Conv1d(channels, channels, 3, padding=d, dilation=d)
                                       for d in dilations)
            self.out = nn.Conv1d(channels, stride, 1)

        def forward(self, z, mask=None):
            t = z.shape[-1] * every  # frames
            h = self.inp(F.pad(z, (0, -z.shape[-1] % reads)))
            if mask is not None:
                mask = F.pad(mask, (0, -mask.shape[-1] % stride))[..., ::stride]
                h = h * mask
            for conv in self.convs:
                u = torch.relu(conv(h))
                if dropout:
                    u = F.dropout(u, dropout, self.training)
                h = h + u
                if mask is not None:
                    h = h * mask
            y = self.out(h)  # (B, s, steps): frame s*step + k in row k
            return y.transpose(1, 2).reshape(y.shape[0], -1)[:, :t]

    return Net()


def state_arrays(net) -> list[tuple[str, np.ndarray]]:
    """(name, array) in boundary_net_weights.SHAPES order."""
    out = [("inp.w", net.inp.weight), ("inp.b", net.inp.bias)]
    for i, c in enumerate(net.convs):
        out += [(f"c{i}.w", c.weight), (f"c{i}.b", c.bias)]
    out += [("out.w", net.out.weight), ("out.b", net.out.bias)]
    return [(n, t.detach().numpy().astype(np.float32)) for n, t in out]


def load_into(net, w: dict) -> None:
    import torch

    with torch.no_grad():
        for name, arr in [(n, w[n]) for n, _ in state_arrays(net)]:
            mod, _, attr = name.partition(".")
            layer = net.convs[int(mod[1:])] if mod.startswith("c") else getattr(net, mod)
            getattr(layer, {"w": "weight", "b": "bias"}[attr]).copy_(torch.from_numpy(arr))


def batches(data, idx, size: int, rng):
    """Clips of similar length together (less padding), batches in random order."""
    idx = sorted(idx, key=lambda k: data[k][0].shape[1])
    groups = [idx[i:i + size] for i in range(0, len(idx), size)]
    return [groups[k] for k in rng.permutation(len(groups))]


def every_frames(z: np.ndarray, every: int) -> np.ndarray:
    """A clip's front end (every frame) as front_end(every=...) gives it: every
    ``every``-th column, normalised again over those (the mel bands' medians, the level's
    95th percentile, the pitch's median over voiced columns). The pitch is measured every
    20 ms at both rates, so only the floor that keeps digital silence finite (relative to
    the clip's mean) differs, by float rounding where there is sound."""
    from engine.audio.boundary_net import N_MEL

    if every == 1:
        return z
    out = z[:, ::every].copy()
    out[:N_MEL] -= np.median(out[:N_MEL], 1, keepdims=True)
    out[N_MEL] -= np.percentile(out[N_MEL], 95)
    if out.shape[0] > N_MEL + 2:
        on = out[N_MEL + 2] > 0
        ref = float(np.median(out[N_MEL + 1][on])) if on.any() else 0.0
        out[N_MEL + 1] = np.where(on, out[N_MEL + 1] - ref, 0.0)
    return out


def mask_bands(z: np.ndarray, rng: np.random.Generator, most: int) -> None:
    """SpecAugment's frequency masking on one clip's inputs (rows, T), in place: 0 to
    ``most`` adjacent mel bands set to 0, their median after the front end's
    normalisation; the level, pitch and voicing rows are left as they are."""
    from engine.audio.boundary_net import N_MEL

    width = int(rng.integers(0, most + 1))
    lo = int(rng.integers(0, N_MEL - width + 1))
    z[lo:lo + width] = 0.0


def window_loss(logit, y, mask, width: int, hop: int):
    """The planner's question, as a loss: a clip cut into pieces of at most ``width``
    frames has a cut in every ``width`` frames, which the programme puts about where the
    log-odds peak, so in every window of that width (one each ``hop`` frames, wholly inside
    its clip, holding a frame between sentences) the softmax of the log-odds over the
    window should sit on frames between sentences: the mean of -log(its mass there).
    (B, T) tensors in, a scalar out (0 when no window qualifies)."""
    import torch

    if logit.shape[1] < width:
        return logit.sum() * 0.0
    zw = logit.unfold(1, width, hop)  # (B, windows, width)
    yw, mw = y.unfold(1, width, hop), mask.unfold(1, width, hop)
    ok = (mw.min(-1).values > 0) & ((yw * mw).sum(-1) > 0)
    if not bool(ok.any()):
        return logit.sum() * 0.0
    zw = zw[ok]
    between = torch.logsumexp(zw.masked_fill(yw[ok] < 0.5, float("-inf")), -1)
    return (torch.logsumexp(zw, -1) - between).mean()


def max_frames() -> int:
    """The benchmark's maximum clip length in slicer frames (window_loss's window)."""
    from bench import slice_benchmark as sb
    from engine.audio.slicer import FrameGrid, SlicerParams

    return int(round(sb.MAX_S * sb.SR / FrameGrid.of(SlicerParams(), sb.SR).hop))


def fit(data, epochs: int, seed: int, threads: int = 2, log=print, channels=CHANNELS,
        dilations=DILATIONS, lr: float = 3e-3, stride: int = 1, inputs: int | None = None,
        every: int = 1, rank: float = 0.0, rank_frames: int = 1200, dropout: float = 0.0,
        band_mask: int = 0):
    """``rank``: the weight of window_loss (windows of ``rank_frames``, one every sixth
    of that) beside the per-frame cross-entropy. Tried once (weight 0.1, seed 0, on a
    corpus with a first batch of 62 more Mandarin sentences, since replaced): 15 sentences
    cut on benchmark seeds 2, 3, where the same fit without it cut 13: no help there.
    ``dropout``: make_module's; ``band_mask``: up to this many adjacent mel bands of each
    clip of a batch set to their median (0 after the front end's normalisation), drawn
    anew every time the clip is seen (SpecAugment's frequency masking). Each tried once on
    the corpus of 303 Mandarin sentences (benchmark seeds 2, 3, 6, 7; sentences cut,
    recordings at upstream's level of 84; the same seed without either: seed 0 12 (73),
    seed 1 8 (78)): dropout 0.1 seed 0 14 (71), seed 1 13 (72); band_mask 4 seed 1
    8 (77). Neither helped."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    n_in = inputs or data[0][0].shape[0]  # the first n_in rows of the front end
    data = [(every_frames(z[:n_in], every), y, w, name) for z, y, w, name in data]
    net = make_module(n_in, channels, dilations, stride, every, dropout)
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * -(-len(data) // 8)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    for ep in range(epochs):
        t, tot, n = time.perf_counter(), 0.0, 0.0
        for group in batches(data, range(len(data)), 8, rng):
            cols = max(data[k][0].shape[1] for k in group)
            T = cols * every  # frames
            z = np.zeros((len(group), n_in, cols), np.float32)
            y, w, m = (np.zeros((len(group), T), np.float32) for _ in range(3))
            for b, k in enumerate(group):
                zz, yy, ww, _ = data[k]
                n_k = yy.size
                z[b, :, :zz.shape[1]], y[b, :n_k], w[b, :n_k], m[b, :n_k] = zz, yy, ww, 1.0
                if band_mask:
                    mask_bands(z[b], rng, band_mask)
            mask = torch.from_numpy(m)
            logit = net(torch.from_numpy(z), mask[:, None])
            loss_f = torch.nn.functional.binary_cross_entropy_with_logits(
                logit, torch.from_numpy(y), weight=torch.from_numpy(w) * mask, reduction="sum")
            loss = loss_f / mask.sum()
            if rank:
                loss = loss + rank * window_loss(logit, torch.from_numpy(y), mask, rank_frames,
                                                 rank_frames // 6)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss_f.detach())
            n += float((torch.from_numpy(w) * mask).sum())
        log(f"epoch {ep + 1}/{epochs}: loss {tot / n:.4f} ({time.perf_counter() - t:.0f} s)")
    net.eval()
    return net


def _blob(net) -> str:
    arrays = state_arrays(net)
    return base64.b64encode(np.concatenate([a.ravel() for _, a in arrays]).astype("<f2")
                            .tobytes()).decode()


def write(blobs: list[str], dilations, shapes, header: str, out: Path = OUT,
          stride: int = 1) -> None:
    """A weights module: one float16 blob per ensemble member, all of one shape (N_IN:
    the front-end rows they read, from the input layer's shape)."""
    n_in = dict(shapes)["inp.w"][1]
    lines = ['"""' + header.strip() + '\n"""', "", f"N_IN = {n_in}",
             f"DILATIONS = {tuple(dilations)}", f"STRIDE = {stride}", f"SHAPES = {shapes}",
             "BLOBS = ("]
    for blob in blobs:
        lines += [f'    "{blob[i:i + 96]}"' for i in range(0, len(blob), 96)] + ["    ,"]
    lines += [")", ""]
    out.write_text("\n".join(lines))


def join(paths: list[Path], out: Path, note: str = "") -> None:
    """One weights module from nets fitted apart (``--write --out`` each): an ensemble."""
    from bench.net_variant import load_module

    mods = [load_module(p) for p in paths]
    first = mods[0]
    if any(m.SHAPES != first.SHAPES or m.DILATIONS != first.DILATIONS
           or getattr(m, "STRIDE", 1) != getattr(first, "STRIDE", 1) for m in mods):
        raise SystemExit("--join: the members must share one architecture")
    blobs = [b for m in mods for b in (getattr(m, "BLOBS", None) or (m.BLOB,))]
    header = (f"Weights of engine/audio/boundary_net.py: an ensemble of {len(blobs)} nets\n"
              "(their log-odds averaged), joined by\n`python -m bench.fit_boundary_net "
              f"--join {' '.join(p.name for p in paths)}`. The members, in order:\n\n"
              + "\n\n".join(m.__doc__.strip() for m in mods) + (f"\n\n{note}" if note else ""))
    write(blobs, first.DILATIONS, first.SHAPES, header, out, getattr(first, "STRIDE", 1))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="bench fit_boundary_net")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--channels", type=int, default=CHANNELS)
    ap.add_argument("--dilations", type=int, nargs="+", default=list(DILATIONS))
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--inputs", type=int, default=None,
                    help="read only the front end's first rows (33: mel bands and level, "
                         "no pitch)")
    ap.add_argument("--stride", type=int, default=1,
                    help="frames per step of the convolutions (log-odds still every frame)")
    ap.add_argument("--every", type=int, default=1,
                    help="read the front end every this many frames (a divisor of --stride)")
    ap.add_argument("--write", action="store_true", help="write boundary_net_weights.py")
    ap.add_argument("--out", type=Path, default=OUT,
                    help="where --write puts the weights (another path: a variant to score "
                         "with slice_benchmark --scorer bench.net_variant:scorer)")
    ap.add_argument("--variants", type=int, nargs="+", default=[0, 1, 2],
                    help="renderings of the corpus to fit on")
    ap.add_argument("--rank", type=float, default=0.0,
                    help="weight of the window loss (fit_boundary_net.window_loss) beside "
                         "the per-frame cross-entropy; 0: none")
    ap.add_argument("--threads", type=int, default=2,
                    help="torch threads (1: two fits side by side on two cores)")
    ap.add_argument("--dropout", type=float, default=0.0,
                    help="share of each residual branch dropped while fitting")
    ap.add_argument("--band-mask", type=int, default=0,
                    help="up to this many adjacent mel bands of a clip masked while fitting")
    ap.add_argument("--note", default="", help="a line of results for the weights' header")
    ap.add_argument("--join", type=Path, nargs="+",
                    help="write --out from these members' weights files (no fitting)")
    args = ap.parse_args(argv if argv is not None else sys.argv[1:])
    if args.join:
        join(args.join, args.out, args.note)
        print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
        return
    from bench.boundary_corpus import check_held_out
    from bench.unseen_sentences import check_unseen

    check_held_out()
    check_unseen()
    t = time.perf_counter()
    data = dataset(tuple(args.variants))
    frames = sum(d[0].shape[1] for d in data)
    print(f"{len(data)} clips, {frames} frames, {100 * sum(d[1].sum() for d in data) / frames:.1f} "
          f"% positive ({time.perf_counter() - t:.0f} s)")
    t = time.perf_counter()
    net = fit(data, args.epochs, args.seed, args.threads, channels=args.channels,
              dilations=tuple(args.dilations), lr=args.lr, stride=args.stride,
              inputs=args.inputs, every=args.every, rank=args.rank,
              rank_frames=max_frames(), dropout=args.dropout, band_mask=args.band_mask)
    print(f"fitted in {time.perf_counter() - t:.0f} s")
    if args.write:
        # the flags that left their defaults, for the header's command line
        extra = "".join(f"--{flag} {value} " for flag, value, changed in (
            ("inputs", args.inputs, args.inputs), ("every", args.every, args.every > 1),
            ("threads", args.threads, args.threads != 2), ("rank", f"{args.rank:g}", args.rank),
            ("dropout", f"{args.dropout:g}", args.dropout),
            ("band-mask", args.band_mask, args.band_mask)) if changed)
        rank_note = (f", window loss x{args.rank:g} over {max_frames()}-frame windows"
                     if args.rank else "")
        write([_blob(net)], net.dilations, [(n, tuple(a.shape)) for n, a in state_arrays(net)],
              f"""Weights of engine/audio/boundary_net.py, written by
`python -m bench.fit_boundary_net --epochs {args.epochs} --seed {args.seed} --channels {args.channels}
--dilations {' '.join(map(str, args.dilations))} --lr {args.lr:g} --stride {args.stride}
{extra}--variants {' '.join(map(str, args.variants))} --write`
(torch CPU, AdamW + one-cycle, batch 8 clips, BCE with near misses x{NEAR_W:g}{rank_note}).
Fitted on {len(data)} over-long clips ({frames} frames of 10 ms) that the slice plan
force-cuts in recordings built like the benchmark's from bench/boundary_corpus.py's
sentences (none of the benchmark's; renderings {' '.join(map(str, args.variants))}),
clean / white / pink 5-25 dB / music 8-20 dB / reverb RT60 0.3-0.9 s; labels from the
dry sentence spans.
{args.note}""", args.out, args.stride)
        print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
