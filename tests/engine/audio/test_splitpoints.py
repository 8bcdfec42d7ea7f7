"""Forced split points: the dynamic programme over valleys, the local threshold inside
noisy clips and the merging of short leftovers, on generated audio (no espeak: seconds)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.audio.slicer import FrameGrid, SlicerParams, enforce_max_length, frame_rms, slice_bounds
from engine.audio.splitpoints import choose_cuts, merge_short, plan_clips, split_at_valleys

SR = 32000
GRID = FrameGrid.of(SlicerParams(), SR)


def babble(seconds: float, rng: np.random.Generator, level: float = 0.1) -> np.ndarray:
    """Speech-like sound: noise under a syllable envelope (4–6 per second) whose troughs
    stay about 12 dB under the peaks, so there is no silence anywhere in it."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    rate = rng.uniform(4, 6)
    env = 0.25 + 0.75 * np.abs(np.sin(np.pi * rate * t + rng.uniform(0, 3)))
    return (rng.standard_normal(n) * env * level).astype(np.float32)


def dip(x: np.ndarray, at_s: float, ms: float, gain: float) -> None:
    a = int(at_s * SR)
    x[a - int(ms * SR / 2000):a + int(ms * SR / 2000)] *= gain


@pytest.mark.parametrize("seed", range(6))
def test_pieces_never_pass_the_maximum(seed):
    """Random valleys, lengths and limits: every piece within [min_piece, max]."""
    rng = np.random.default_rng(seed)
    length = int(rng.uniform(13, 200) * SR)
    max_len = int(rng.uniform(4, 20) * SR)
    pos = np.sort(rng.choice(length, int(rng.integers(0, 400)), replace=False))
    score = rng.uniform(0, 1, pos.size)
    cuts = choose_cuts(length, pos, score, max_len, SR)
    if cuts is None:  # allowed only when the candidates truly cannot make the lengths
        return
    edges = [0] + cuts + [length]
    pieces = np.diff(edges)
    assert pieces.max() <= max_len and pieces.min() >= SR
    assert set(cuts) <= set(pos.tolist())


@pytest.mark.parametrize("seed", range(3))
def test_plan_never_passes_the_maximum(seed):
    """Babble with silences and noisy stretches of random lengths, through the whole plan:
    no clip over the maximum, clips in order and inside the audio."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(30):
        parts.append(babble(rng.uniform(0.3, 25), rng))
        parts.append((rng.standard_normal(int(rng.uniform(0.01, 1.5) * SR))
                      * rng.choice([0, 1e-3, 0.03])).astype(np.float32))
    x = np.concatenate(parts)
    max_len = int(rng.uniform(5, 15) * SR)
    plan = plan_clips(x, SR, SlicerParams(), max_len)
    assert all(e - s <= max_len for s, e in plan.bounds)
    assert all(0 <= s < e <= x.size for s, e in plan.bounds)
    assert all(a[1] <= b[0] for a, b in zip(plan.bounds, plan.bounds[1:]))


def test_deep_long_valley_beats_shallow_and_single_quiet_frames():
    """One cut is needed in 20 s of babble (maximum 12 s), allowed between 8 and 12 s. A
    deep 80 ms gap at 9 s must win over a shallow 300 ms dip at 11 s and a 15 ms dropout at
    10.5 s whose quietest frame is as low as the gap's."""
    rng = np.random.default_rng(1)
    x = babble(20, rng)
    dip(x, 9.0, 80, 0.003)
    dip(x, 11.0, 300, 0.3)
    dip(x, 10.5, 15, 0.0)
    rms = frame_rms(x, GRID.win, GRID.hop)
    assert slice_bounds(x, SR, rms=rms) == [(0, x.size)]  # no silence upstream would cut
    pieces = split_at_valleys(0, x.size, rms, GRID.hop, 12 * SR, SR)
    assert len(pieces) == 2
    assert abs(pieces[0][1] - 9.0 * SR) <= 0.03 * SR, pieces[0][1] / SR


def test_fewest_cuts_first_then_the_best_valley_among_them():
    """30 s with deep gaps at 10 and 20 s and a shallower dip at 15 s. With a maximum of
    16 s one cut suffices, so it goes to the best valley where one cut can go (the dip);
    with a maximum of 12 s two cuts are needed and they take the two gaps."""
    rng = np.random.default_rng(2)
    x = babble(30, rng)
    dip(x, 10.0, 80, 0.003)
    dip(x, 20.0, 80, 0.003)
    dip(x, 15.0, 60, 0.1)
    rms = frame_rms(x, GRID.win, GRID.hop)
    one = [e for _, e in split_at_valleys(0, x.size, rms, GRID.hop, 16 * SR, SR)[:-1]]
    assert len(one) == 1 and abs(one[0] - 15 * SR) <= 0.03 * SR, one
    two = [e for _, e in split_at_valleys(0, x.size, rms, GRID.hop, 12 * SR, SR)[:-1]]
    assert len(two) == 2
    assert all(min(abs(c - t * SR) for t in (10, 20)) <= 0.03 * SR for c in two), two


def test_noisy_floor_is_still_cut_at_pauses():
    """Babble phrases (−13 dBFS) of 2.5–3.5 s with 0.5 s pauses filled by noise at −28 dBFS (above the
    −34 dB threshold): upstream's rules alone see one 40 s clip; the plan cuts it at the
    pauses, every clip within the maximum."""
    rng = np.random.default_rng(3)
    floor = 10 ** (-28 / 20)
    parts, pauses, pos = [], [], 0
    while pos < 40 * SR:
        speech = babble(rng.uniform(2.5, 3.5), rng, level=0.3)
        gap = np.zeros(int(0.5 * SR), np.float32)
        parts += [speech, gap]
        pauses.append((pos + speech.size, pos + speech.size + gap.size))
        pos += speech.size + gap.size
    x = np.concatenate(parts)
    x += (rng.standard_normal(x.size) * floor).astype(np.float32)
    assert len(slice_bounds(x, SR)) == 1
    plan = plan_clips(x, SR, SlicerParams(), 12 * SR)
    assert all(e - s <= 12 * SR for s, e in plan.bounds)
    assert len(plan.bounds) >= 6  # a cut at a pause once 4 s (upstream's min_length) are in
    for (_, end), (start, _) in zip(plan.bounds, plan.bounds[1:]):
        assert any(a <= end <= start <= b for a, b in pauses), (end / SR, start / SR)


def test_noisy_floor_without_long_clips_is_left_alone():
    """The local threshold only acts inside clips over the maximum."""
    rng = np.random.default_rng(4)
    x = babble(10, rng) + (rng.standard_normal(10 * SR) * 0.04).astype(np.float32)
    assert plan_clips(x, SR, SlicerParams(), 12 * SR).bounds == [(0, x.size)]


def test_short_leftover_joins_the_nearer_neighbour():
    b = [(0, 5 * SR), (int(5.2 * SR), int(5.7 * SR)), (7 * SR, 12 * SR)]
    plan = merge_short(b, 12 * SR, SR)
    assert plan.bounds == [(0, int(5.7 * SR)), (7 * SR, 12 * SR)] and plan.short == []
    # joined to the previous clip it would pass 5.6 s: the next one (1.3 s away) takes it
    b[2] = (7 * SR, int(10.5 * SR))
    plan = merge_short(b, int(5.6 * SR), SR)
    assert plan.bounds == [(0, 5 * SR), (int(5.2 * SR), int(10.5 * SR))] and plan.short == []


def test_short_leftover_that_fits_nowhere_is_listed():
    b = [(0, 5 * SR), (int(5.2 * SR), int(5.7 * SR)), (6 * SR, 11 * SR)]
    plan = merge_short(b, int(5.6 * SR), SR)
    assert plan.bounds == b and plan.short == [1]


def test_trailing_blip_merges_through_the_plan():
    """A 0.4 s cough after the last pause: upstream's rules make it a clip of its own, the
    plan joins it to the clip before."""
    rng = np.random.default_rng(5)
    x = np.concatenate([babble(6, rng), np.zeros(SR // 2, np.float32), babble(0.4, rng),
                        np.zeros(SR // 10, np.float32)])
    assert len(slice_bounds(x, SR)) == 2
    plan = plan_clips(x, SR, SlicerParams(), 12 * SR)
    assert len(plan.bounds) == 1 and plan.short == []


def test_pieces_fit_without_any_valley():
    """No candidate can make the lengths: the programme says so and the split falls back
    to the quietest frame of each allowed window; a steady tone still comes out in pieces
    that fit and cover it."""
    assert choose_cuts(25 * SR, np.zeros(0, np.int64), np.zeros(0), 10 * SR, SR) is None
    assert choose_cuts(25 * SR, np.array([12 * SR]), np.ones(1), 10 * SR, SR) is None
    x = (0.3 * np.sin(2 * np.pi * 200 * np.arange(25 * SR) / SR)).astype(np.float32)
    rms = frame_rms(x, GRID.win, GRID.hop)
    pieces = split_at_valleys(0, x.size, rms, GRID.hop, 10 * SR, SR)
    assert pieces[0][0] == 0 and pieces[-1][1] == x.size
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    assert all(SR <= e - s <= 10 * SR for s, e in pieces)
    short = split_at_valleys(0, 11 * SR, rms[:2], GRID.hop, 10 * SR, SR)  # too few frames
    assert short == enforce_max_length([(0, 11 * SR)], rms[:2], GRID.hop, 10 * SR, SR)


@pytest.mark.parametrize("seed", range(8))
def test_programme_finds_the_best_cuts(seed):
    """The layered programme against brute force on small cases: the fewest pieces the
    candidates allow, then the highest total value."""
    import itertools

    from engine.audio.splitpoints import cut_value

    rng = np.random.default_rng(seed)
    unit = SR // 10
    length, max_len = int(rng.integers(25, 60)) * unit, 12 * unit
    pos = np.sort(rng.choice(np.arange(1, length // unit), int(rng.integers(4, 14)),
                             replace=False)) * unit
    score = rng.uniform(0, 1, pos.size)
    best = None
    for k in range(1, 7):
        for combo in itertools.combinations(range(pos.size), k):
            pieces = np.diff([0, *pos[list(combo)], length])
            if pieces.max() <= max_len and pieces.min() >= unit:
                value = float(cut_value(score[list(combo)]).sum())
                if best is None or value > best[0] + 1e-12:
                    best = (value, [int(pos[i]) for i in combo])
        if best is not None:
            break
    got = choose_cuts(length, pos, score, max_len, unit)
    if best is None:
        assert got is None
        return
    assert got is not None and len(got) == len(best[1])
    idx = [int(np.flatnonzero(pos == c)[0]) for c in got]
    assert float(cut_value(score[idx]).sum()) == pytest.approx(best[0])


def test_local_threshold_that_only_trims_keeps_the_clip_whole():
    """36.3 s of babble without pauses over a noise floor above the threshold, then 0.45 s
    of that floor: the local threshold would only trim the end, which would leave 35.9 s
    to cut in three tight pieces instead of four; the clip is kept whole."""
    from engine.audio.splitpoints import reslice_locally

    rng = np.random.default_rng(6)
    x = np.concatenate([babble(36.3, rng, level=0.3), np.zeros(int(0.45 * SR), np.float32)])
    x += (rng.standard_normal(x.size) * 10 ** (-28 / 20)).astype(np.float32)
    rms = frame_rms(x, GRID.win, GRID.hop)
    (s, e), = slice_bounds(x, SR, rms=rms)
    assert reslice_locally(s, e, rms, GRID, x.size) == [(s, e)]
    plan = plan_clips(x, SR, SlicerParams(), 12 * SR)
    assert len(plan.bounds) == 4 and all(b - a <= 12 * SR for a, b in plan.bounds)


def test_short_clip_does_not_join_across_a_removed_silence():
    """Joining across a gap would bring back the silence upstream's rules removed: with a
    max_gap the short clip is listed instead (and still joins a neighbour it touches)."""
    b = [(0, 5 * SR), (int(5.4 * SR), int(6.1 * SR)), (8 * SR, 11 * SR)]
    plan = merge_short(b, 12 * SR, SR, max_gap=GRID.hop)
    assert plan.bounds == b and plan.short == [1]
    b[1] = (5 * SR, int(5.7 * SR))
    plan = merge_short(b, 12 * SR, SR, max_gap=GRID.hop)
    assert plan.bounds == [(0, int(5.7 * SR)), (8 * SR, 11 * SR)] and plan.short == []


def test_a_noisy_pause_is_cut_after_the_faint_end_of_a_sentence():
    """Over a floor above the global threshold, a sentence ending in a stop closure and a
    faint release (under the local threshold: part of the silent run), then 100 ms of
    floor and the next sentence's sharp start. Upstream's rules cut at the run's quietest
    frame, here in the closure, dropping the release from its sentence; the local pass
    cuts just before the next sentence, and each clip holds its sentence whole."""
    from engine.audio.slicer import silence_tags, tags_to_bounds
    from engine.audio.splitpoints import local_threshold, reslice_locally

    rng = np.random.default_rng(3)
    ms = lambda v: int(v * SR / 1000)  # noqa: E731
    a = babble(5.0, rng, level=0.3)
    closure = np.zeros(ms(60), np.float32)
    release = (rng.standard_normal(ms(250)) * 10 ** (-27 / 20)).astype(np.float32)
    gap = np.zeros(ms(100), np.float32)
    b = babble(5.0, rng, level=0.3)
    x = np.concatenate([a, closure, release, gap, b])
    x += (rng.standard_normal(x.size) * 10 ** (-30 / 20)).astype(np.float32)
    tail_end, b_start = a.size + closure.size + release.size, x.size - b.size
    rms = frame_rms(x, GRID.win, GRID.hop)
    (s, e), = slice_bounds(x, SR, rms=rms)  # no silence under -34 dB: one clip
    local = replace(GRID, threshold=local_threshold(rms, GRID.threshold))
    upstream = tags_to_bounds(silence_tags(rms, local), rms.size, GRID.hop, x.size)
    assert len(upstream) == 2 and upstream[0][1] < tail_end  # the release cut off
    pieces = reslice_locally(s, e, rms, GRID, x.size)
    assert len(pieces) == 2
    (_, cut), (cut2, _) = pieces
    assert cut == cut2 and tail_end <= cut <= b_start


def test_noisy_pauses_keep_max_sil_kept_beside_the_speech():
    """Frame level: a long middle run keeps max_sil_kept on each side (the middle is
    dropped), a short one is cut LOCAL_BACK frames before the speech after it, the last
    run keeps max_sil_kept after the speech."""
    from engine.audio.slicer import silence_tags
    from engine.audio.splitpoints import LOCAL_BACK, place_in_noisy_pauses

    loud, quiet, keep = 1.0, 1e-4, GRID.max_sil_kept
    r = np.full(2400, loud)
    r[600:800] = quiet  # 2 s: longer than twice max_sil_kept
    r[1400:1440] = quiet  # 0.4 s
    r[2200:] = quiet  # the end
    tags = silence_tags(r, GRID)
    assert len(tags) == 3
    assert place_in_noisy_pauses(tags, r, GRID) == [
        (600 + keep, 800 - keep), (1440 - LOCAL_BACK, 1440 - LOCAL_BACK),
        (2200 + keep, tags[2][1])]


def test_prefetched_scores_ranges_in_threads_with_the_same_answers():
    """The boundary model runs on several forced ranges at once (a thread each); every
    answer is the one the model gives alone, and the plan is the same. Meanwhile BLAS runs
    one thread (its own on top of ours would spin for cores they do not get), and after
    it has the count it had."""
    import functools
    import threading

    from threadpoolctl import threadpool_info

    from engine.audio.boundary_net import scorer as net
    from engine.audio.splitpoints import long_clips, prefetched

    rng = np.random.default_rng(9)
    x = np.concatenate([np.concatenate([babble(20.0, rng), np.zeros(SR, np.float32)])
                        for _ in range(3)])
    rms = frame_rms(x, GRID.win, GRID.hop)
    ranges = long_clips(x, SR, SlicerParams(), 12 * SR, rms)
    assert len(ranges) == 3
    threads, blas = set(), set()

    def blas_threads():
        return tuple(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")

    s0, e0 = ranges[0]
    net(x, rms, -(-s0 // GRID.hop), e0 // GRID.hop, GRID.hop, SR)  # loads every BLAS it uses
    before = blas_threads()
    assert before

    @functools.wraps(net)  # with the attributes the planner reads
    def model(*a, **k):
        threads.add(threading.get_ident())
        blas.add(blas_threads())
        return net(*a, **k)

    ask = prefetched(model, x, rms, GRID.hop, SR, ranges, workers=3)
    assert len(threads) > 1 and ask.all_frames
    assert blas == {(1,) * len(before)} and blas_threads() == before
    for s, e in ranges:
        f0, f1 = -(-s // GRID.hop), min(e // GRID.hop, rms.size - 1) + 1
        np.testing.assert_array_equal(ask(x, rms, f0, f1, GRID.hop, SR),
                                      net(x, rms, f0, f1, GRID.hop, SR))
    alone = [split_at_valleys(s, e, rms, GRID.hop, 12 * SR, SR, x=x, sr=SR, scorer=net)
             for s, e in ranges]
    assert [split_at_valleys(s, e, rms, GRID.hop, 12 * SR, SR, x=x, sr=SR, scorer=ask)
            for s, e in ranges] == alone
