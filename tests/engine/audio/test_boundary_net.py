"""The learned sentence-boundary model (engine/audio/boundary_net.py): its weights fit its
front end, its numpy inference is the torch module it was fitted as, and through the
slice plan its forced cuts fall between sentences it never heard (these sentences are in
neither bench/boundary_corpus.py nor the benchmark)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio import boundary_net as bn
from engine.audio.slicer import FrameGrid, SlicerParams, frame_rms, slice_bounds
from engine.audio.splitpoints import plan_clips
from tests.helpers.speech import have_espeak, join_sentences, speech_array

SR = 32000
GRID = FrameGrid.of(SlicerParams(), SR)
SLACK = int(0.03 * SR)
NEW = [
    "The captain of the team lifted the silver cup above his head",
    "Seven white horses stood in the field beside the old mill",
    "A quiet voice on the radio read out the weather for tomorrow",
    "Our cousins arrived by train late on Thursday evening",
    "The plumber repaired the leaking pipe under the bathroom sink",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Each new sentence twice, shuffled, 0-60 ms apart with its own gain (±3 dB), 0.5 s
    of silence at both ends: ~33 s that upstream's rules leave (mostly) whole."""
    if not have_espeak():
        pytest.skip("needs espeak-ng")
    tmp = tmp_path_factory.mktemp("net")
    parts = []
    for text in NEW:
        x = speech_array(text, tmp, sr=SR)
        loud = np.flatnonzero(np.abs(x) > 1e-3)
        parts.append(x[loud[0]:loud[-1] + 1] * np.float32(0.3))
    rng = np.random.default_rng(4)
    order = list(rng.permutation(5)) + list(rng.permutation(5))
    gaps, gains = [], []
    for k in range(len(order)):  # per sentence a gap, then a gain: this order fixes the run
        gaps.append(rng.uniform(0, 0.06) if k else 0.0)
        gains.append(rng.uniform(-3, 3))
    return join_sentences(parts, order, gaps, gains, SR)


def test_weights_match_the_front_end():
    from engine.audio import boundary_net_weights as bw

    members = bn.weights()
    assert len(members) == len(bw.BLOBS) >= 1
    x = np.random.default_rng(0).standard_normal(3 * SR).astype(np.float32) * 0.01
    z = bn.front_end(x, 10, 250, GRID.hop, SR)
    assert z.shape == (bn.N_IN, 240) and np.isfinite(z).all()
    for w in members:
        assert bw.N_IN == bn.N_IN == w["inp.w"].shape[1]
        assert len(w["dilations"]) == sum(k.startswith("c") and k.endswith(".w") for k in w)
        assert bn.forward(z, w).shape == (240,)
    assert np.allclose(bn.log_odds(z), np.mean([bn.forward(z, w) for w in members], 0),
                       atol=1e-5)


def test_cuts_between_unseen_sentences_and_fit(run):
    x, spans = run
    assert max(e - s for s, e in slice_bounds(x, SR)) > 24 * SR  # forced cuts needed
    bounds = plan_clips(x, SR, SlicerParams(), 12 * SR, scorer=bn.scorer).bounds
    assert plan_clips(x, SR, SlicerParams(), 12 * SR).bounds == bounds  # the slice step's
    assert len(bounds) >= 3 and all(e - s <= 12 * SR for s, e in bounds)
    cuts = [p for (_, e), (s, _) in zip(bounds, bounds[1:]) for p in (e, s)]
    inside = [p / SR for p in cuts if any(a + SLACK < p < b - SLACK for a, b in spans)]
    assert not inside, inside


def test_gain_does_not_change_the_answer(run):
    """Per-clip normalisation: the same clip 18 dB quieter gives the same log-odds (a
    power of two, so the pitch path's rescaled copy is the same samples: a gain like 0.1
    rounds them, which may flip a voicing decision at its threshold), and 20 dB quieter
    the same cuts."""
    x, _ = run
    rms = frame_rms(x, GRID.win, GRID.hop)
    f1 = rms.size - 1
    a = bn.scorer(x, rms, 0, f1, GRID.hop, SR)
    q = np.float32(0.125)
    b = bn.scorer(x * q, rms * q, 0, f1, GRID.hop, SR)
    assert np.abs(a - b).max() < 1e-3
    loud = plan_clips(x, SR, SlicerParams(), 12 * SR, scorer=bn.scorer).bounds
    quiet = plan_clips(x * np.float32(0.1), SR, SlicerParams(threshold_db=-54.0), 12 * SR,
                       scorer=bn.scorer).bounds
    assert quiet == loud


def test_numpy_inference_is_the_torch_module(run):
    import torch

    from bench.fit_boundary_net import load_into, make_module

    x, _ = run
    z = bn.front_end(x, 0, 1500, GRID.hop, SR)
    for w in bn.weights():
        net = make_module(bn.N_IN, w["inp.w"].shape[0], tuple(w["dilations"]), w["stride"],
                          w["every"])
        load_into(net, w)
        zw = z[:, ::w["every"]]
        with torch.no_grad():
            ref = net(torch.from_numpy(zw)[None])[0].numpy()[:1500]
        assert np.abs(bn.forward(zw, w, 1500) - ref).max() < 1e-4


@pytest.mark.parametrize("stride, every", [(1, 1), (2, 1), (3, 1), (2, 2), (4, 2)])
def test_a_strided_net_in_numpy_is_its_torch_module_in_a_padded_batch(stride, every):
    """Steps of ``stride`` frames, the front end every ``every`` frames: numpy on each clip
    alone (lengths that are and are not multiples of the stride) gives what the fitting
    batch gives, padding and mask and all."""
    import torch

    from bench.fit_boundary_net import make_module, state_arrays

    torch.manual_seed(stride)
    net = make_module(bn.N_MEL + 1, 8, (1, 2, 64), stride, every)
    w = {"dilations": [1, 2, 64], "stride": stride, **dict(state_arrays(net))}
    lengths = (7, 100, 301)  # frames
    zs = [np.random.default_rng(n).standard_normal((bn.N_MEL + 1, -(-n // every)))
          .astype(np.float32) for n in lengths]
    batch, mask = torch.zeros(3, bn.N_MEL + 1, 320 // every), torch.zeros(3, 1, 320)
    for b, (z, n) in enumerate(zip(zs, lengths)):
        batch[b, :, :z.shape[1]], mask[b, :, :n] = torch.from_numpy(z), 1.0
    with torch.no_grad():
        ref = net(batch, mask).numpy()
    for b, (z, n) in enumerate(zip(zs, lengths)):
        out = bn.forward(z, w, n)
        assert out.shape == (n,)
        assert np.abs(out - ref[b, :n]).max() < 1e-5
    # a net reads the first rows of a longer front end and ignores the rest
    full = np.concatenate([zs[2], np.full((2, zs[2].shape[1]), 9.0, np.float32)])
    assert np.array_equal(bn.forward(full, w), bn.forward(zs[2], w))


def test_the_front_end_without_pitch_is_its_first_rows():
    x = np.random.default_rng(1).standard_normal(4 * SR).astype(np.float32) * 0.05
    full = bn.front_end(x, 20, 300, GRID.hop, SR)
    assert np.array_equal(bn.front_end(x, 20, 300, GRID.hop, SR, bn.N_MEL + 1),
                          full[:bn.N_MEL + 1])


def test_the_front_end_every_second_frame_is_what_the_nets_are_fitted_on(run):
    """front_end(every=2) is the every-frame front end's even columns normalised again
    (bench.fit_boundary_net.every_frames, how the data set becomes a net's at that rate),
    at both parities of the first frame, and it covers every frame asked about."""
    from bench.fit_boundary_net import every_frames

    x, _ = run
    for f0, f1 in ((100, 1601), (101, 1600)):
        full = bn.front_end(x, f0, f1, GRID.hop, SR)
        half = bn.front_end(x, f0, f1, GRID.hop, SR, every=2)
        assert half.shape == (bn.N_IN, -(-(f1 - f0) // 2))
        diff = np.abs(half - every_frames(full, 2))
        # the pitch and voicing rows are the same measurements; the mel bands and level
        # move only where a band nears the floor (relative to the clip's mean power)
        assert diff[bn.N_MEL + 1:].max() < 1e-5, diff[bn.N_MEL + 1:].max()
        assert np.median(diff[:bn.N_MEL + 1]) < 1e-5 and diff.max() < 1e-2, diff.max()


def test_the_window_loss_punishes_a_peak_inside_a_sentence_and_skips_padding():
    """fit_boundary_net.window_loss: a clip whose log-odds peak only between sentences
    costs little; one false peak inside a sentence, higher than the true boundaries of
    its windows, costs much more; the padded frames past a clip's end count in no window
    (the same log-odds there change nothing), and a clip shorter than a window costs 0."""
    import torch

    from bench.fit_boundary_net import window_loss

    t = 3000
    y = torch.zeros(2, t)
    y[:, :50] = y[:, 1000] = y[:, 2000] = 1.0  # the leading pause and two junctions
    mask = torch.ones(2, t)
    mask[1, 2500:] = 0.0
    good = torch.full((2, t), -5.0)
    good[y > 0] = 5.0
    bad = good.clone()
    bad[:, 1500] = 8.0
    lg = float(window_loss(good, y, mask, 1200, 200))
    lb = float(window_loss(bad, y, mask, 1200, 200))
    assert lg < 0.1 and lb > 10 * lg
    padded = good.clone()
    padded[1, 2600] = 50.0  # past clip 1's end
    assert float(window_loss(padded, y, mask, 1200, 200)) == pytest.approx(lg)
    assert float(window_loss(good[:, :1000], y[:, :1000], mask[:, :1000], 1200, 200)) == 0.0


def test_dropout_only_acts_while_fitting():
    """make_module(dropout=...): in training mode two passes differ (channels dropped);
    in eval mode, as fit() returns it, the torch net is the numpy forward, which has no
    dropout (inverted scaling keeps the weights the same net)."""
    import torch

    from bench.fit_boundary_net import make_module, state_arrays

    torch.manual_seed(0)
    net = make_module(bn.N_MEL + 1, 8, (1, 2, 4), 2, 1, dropout=0.3)
    z = np.random.default_rng(0).standard_normal((bn.N_MEL + 1, 200)).astype(np.float32)
    net.train()
    with torch.no_grad():
        a, b = (net(torch.from_numpy(z)[None])[0].numpy() for _ in range(2))
    assert np.abs(a - b).max() > 1e-3
    net.eval()
    w = {"dilations": [1, 2, 4], "stride": 2, **dict(state_arrays(net))}
    with torch.no_grad():
        ref = net(torch.from_numpy(z)[None])[0].numpy()
    assert np.abs(bn.forward(z, w, 200) - ref).max() < 1e-5


def test_band_masking_blanks_a_few_adjacent_mel_bands_only():
    from bench.fit_boundary_net import mask_bands

    rng = np.random.default_rng(0)
    widths = set()
    for _ in range(200):
        z = np.ones((bn.N_IN, 50), np.float32)
        mask_bands(z, rng, 4)
        gone = np.flatnonzero(z[:, 0] == 0)
        assert (z[gone] == 0).all() and (np.delete(z, gone, 0) == 1).all()
        assert gone.size <= 4 and (gone.size == 0 or gone[-1] - gone[0] == gone.size - 1)
        assert gone.size == 0 or gone[-1] < bn.N_MEL
        widths.add(gone.size)
    assert widths == {0, 1, 2, 3, 4}
