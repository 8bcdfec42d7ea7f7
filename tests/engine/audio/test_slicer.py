"""The vectorised slicer against a frame-by-frame transcription of upstream's algorithm,
and the slice step on generated speech with silences of known length."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
import soundfile as sf

from engine.audio.slice_step import SliceRequest, run_slice
from engine.audio.slicer import (FrameGrid, SlicerParams, enforce_max_length, frame_rms,
                                 peak_mix, silence_tags, slice_bounds)
from engine.events import Artifact, Result, StepError
from engine.layout import Layout
from engine.runner import drive
from engine.settings import validate

from .conftest import SR


def naive_rms(x: np.ndarray, win: int, hop: int) -> np.ndarray:
    pad = win // 2
    y = np.pad(x.astype(np.float64), (pad, pad))
    n = 1 + (len(y) - win) // hop
    return np.array([np.sqrt(np.mean(y[j * hop:j * hop + win] ** 2)) for j in range(n)])


def naive_tags(rms: np.ndarray, g: FrameGrid) -> list[tuple[int, int]]:
    """Upstream's per-frame state machine, written out plainly as the reference (the one
    the throughput bench times as upstream's)."""
    from bench.audio_slice import upstream_tags

    return [(int(a), int(b)) for a, b in upstream_tags(rms, g)]


def direct_rms(x: np.ndarray, win: int, hop: int) -> np.ndarray:
    """The same definition in float64 over a strided view of every frame (fast enough for
    minutes of audio)."""
    pad = win // 2
    y = np.pad(x.astype(np.float64), (pad, pad))
    n = 1 + (len(y) - win) // hop
    v = np.lib.stride_tricks.as_strided(y, (n, win), (y.strides[0] * hop, y.strides[0]))
    return np.sqrt(np.einsum("ij,ij->i", v, v) / win)


@pytest.mark.parametrize("n,win,hop", [(32000, 1280, 320), (5001, 960, 320), (777, 300, 100),
                                        (100, 1280, 320), (48000, 1000, 441), (10, 320, 320),
                                        (0, 1280, 320), (1, 1, 1), (641, 12, 5), (3, 7, 3)])
def test_frame_rms_matches_naive(n, win, hop):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32) * 0.3
    got, ref = frame_rms(x, win, hop), naive_rms(x, win, hop)
    assert got.shape == ref.shape
    assert np.allclose(got, ref, rtol=1e-6, atol=0)


def test_frame_rms_keeps_a_quiet_floor_after_long_loud_audio():
    """A running sum over the whole file (the former implementation) loses a -120 dB floor
    after a minute at full scale to rounding; each frame summed on its own keeps it."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(2_000_000).astype(np.float32),
                        rng.standard_normal(SR).astype(np.float32) * 1e-6])
    got, ref = frame_rms(x, 1280, 320), direct_rms(x, 1280, 320)
    quiet = slice(2_000_000 // 320 + 4, -4)
    assert np.all(ref[quiet] > 5e-7)
    assert np.allclose(got[quiet], ref[quiet], rtol=1e-6, atol=0)


@pytest.mark.parametrize("noise", [0.0, 1e-3, 0.03])
def test_plan_from_fast_rms_equals_plan_from_direct_rms(speech_parts, noise):
    """The cut points do not depend on how the RMS frames were computed: sentences 0-60 ms
    apart and paced ones, quiet and noisy floors, through every stage of plan_clips."""
    from engine.audio.splitpoints import plan_clips

    rng = np.random.default_rng(1)
    pieces = []
    for k in range(12):
        gap = rng.uniform(0, 0.06) if k % 4 else rng.uniform(0.3, 1.0)
        pieces += [speech_parts[k % len(speech_parts)], np.zeros(int(gap * SR), np.float32)]
    x = np.concatenate(pieces)
    x = x + rng.standard_normal(x.size).astype(np.float32) * noise
    g = FrameGrid.of(SlicerParams(), SR)
    fast, direct = frame_rms(x, g.win, g.hop), direct_rms(x, g.win, g.hop)
    assert np.allclose(fast, direct, rtol=1e-6, atol=0)
    plans = [plan_clips(x, SR, SlicerParams(), 8 * SR, rms=r).bounds for r in (fast, direct)]
    assert plans[0] == plans[1] and len(plans[0]) > 3


def _bursty(seed: int, seconds: float) -> np.ndarray:
    """Noise bursts and silences of random lengths: many decisions for the state machine."""
    rng = np.random.default_rng(seed)
    out, total = [], 0
    while total < seconds * SR:
        n = int(rng.uniform(0.02, 3.0) * SR)
        level = rng.choice([0.0, 0.001, 0.3])
        out.append(rng.standard_normal(n).astype(np.float32) * level)
        total += n
    return np.concatenate(out)


def test_bench_reference_cuts_where_slice_bounds_does():
    """bench/audio_slice.upstream_like (our re-implementation of upstream's Slicer.slice,
    timed as the reference) yields the clips slice_bounds yields, from the same RMS."""
    from bench.audio_slice import upstream_like, upstream_rms

    for seed in range(3):
        x = _bursty(seed, 60)
        chunks = upstream_like(x, SR)
        assert [(a, min(b, x.size)) for _, a, b in chunks] == slice_bounds(x, SR)
        assert all(c.size == min(b, x.size) - a for c, a, b in chunks)
        assert len(chunks) > 3
    g = FrameGrid.of(SlicerParams(), SR)
    assert np.allclose(upstream_rms(x, g.win, g.hop)[0], naive_rms(x, g.win, g.hop), rtol=1e-5)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("params", [SlicerParams(), SlicerParams(-40, 2000, 200, 20, 1000),
                                    SlicerParams(-30, 300, 30, 10, 50)])
def test_tags_match_upstream_state_machine(seed, params):
    x = _bursty(seed, 40)
    g = FrameGrid.of(params, SR)
    rms = frame_rms(x, g.win, g.hop)
    assert silence_tags(rms, g) == naive_tags(rms, g)


def test_cuts_fall_inside_the_silences(speech_with_gaps):
    x = speech_with_gaps.audio
    bounds = slice_bounds(x, SR, SlicerParams(min_length_ms=1000))
    assert len(bounds) == 4
    for (_, end), (start, _), (s0, s1) in zip(bounds, bounds[1:], speech_with_gaps.silences):
        assert s0 <= end <= start <= s1
    # upstream keeps at most max_sil_kept (500 ms) of silence next to a cut, plus a frame
    for (_, end), (start, _), (s0, s1) in zip(bounds, bounds[1:], speech_with_gaps.silences):
        assert end - s0 <= 0.5 * SR + 640 and s1 - start <= 0.5 * SR + 640


def test_default_min_length_merges_short_phrases(speech_parts):
    """Upstream's min_length counts from one cut to the next speech onset, so from a clip's
    start to the next clip's start is at least 4 s minus the silence kept (0.5 s)."""
    gap = np.zeros(int(0.6 * SR), np.float32)
    x = np.concatenate([np.concatenate([p[:int(1.2 * SR)], gap]) for p in speech_parts * 2])
    bounds = slice_bounds(x, SR)
    assert 1 < len(bounds) <= 4  # eight phrases, merged
    assert all(b[0] - a[0] >= 3.5 * SR for a, b in zip(bounds, bounds[1:]))


def test_max_length_splits_at_the_quietest_point():
    rng = np.random.default_rng(0)
    tone = (0.5 * np.sin(2 * np.pi * 220 * np.arange(30 * SR) / SR)).astype(np.float32)
    tone *= 1 + 0.01 * rng.standard_normal(tone.size).astype(np.float32)
    dips = [7 * SR, int(18.5 * SR)]
    for d in dips:  # 60 ms quieter (but above the silence threshold) at known places
        tone[d - 960:d + 960] *= 0.1
    g = FrameGrid.of(SlicerParams(), SR)
    rms = frame_rms(tone, g.win, g.hop)
    bounds = slice_bounds(tone, SR, rms=rms)
    assert bounds == [(0, 30 * SR)]
    split = enforce_max_length(bounds, rms, g.hop, 12 * SR, SR)
    assert len(split) == 3 and all(e - s <= 12 * SR for s, e in split)
    assert split[0][0] == 0 and split[-1][1] == 30 * SR
    assert all(a[1] == b[0] for a, b in zip(split, split[1:]))
    for cut in (s for s, _ in split[1:]):
        assert min(abs(cut - d) for d in dips) <= 640


def test_enforce_max_length_never_leaves_tiny_pieces():
    rms = np.ones(2000)
    split = enforce_max_length([(0, 2000 * 320 + 100)], rms, 320, 5 * SR, SR)
    lengths = [e - s for s, e in split]
    assert max(lengths) <= 5 * SR and min(lengths) >= SR


def test_peak_mix_matches_upstream_and_keeps_silence():
    x = np.array([0.0, 0.5, -0.25], np.float32)
    assert np.allclose(peak_mix(x), x / 0.5 * 0.9 * 0.25 + 0.75 * x)
    assert np.all(peak_mix(np.zeros(4, np.float32)) == 0)
    assert np.abs(peak_mix(np.array([2.0, -1.0], np.float32))).max() <= 1.0


@pytest.mark.parametrize("kwargs,words", [
    ({"min_interval_ms": 5000}, "min_length ≥ min_interval ≥ hop"),
    ({"hop_ms": 400}, "min_length ≥ min_interval ≥ hop"),
    ({"max_sil_kept_ms": 5}, "max_sil_kept ≥ hop"),
])
def test_parameter_validation_messages(tmp_path, kwargs, words):
    req = SliceRequest(project_root=str(tmp_path), **kwargs)
    validate(req)  # each value is in range on its own
    events = list(drive("slice", run_slice, req))
    assert words in events[-1].reason and events[-1].hint


def test_out_of_range_knob_is_refused(tmp_path):
    with pytest.raises(StepError, match=r"Silence threshold \(dB\) = 5"):
        validate(SliceRequest(project_root=str(tmp_path), threshold_db=5))


def test_slice_step_names_offsets_and_max_length(tmp_path, speech_with_gaps):
    layout = Layout(tmp_path, "demo")
    layout.raw_dir.mkdir(parents=True)
    (layout.raw_dir / speech_with_gaps.path.name).write_bytes(speech_with_gaps.path.read_bytes())
    layout.slices_dir.mkdir(parents=True)
    (layout.slices_dir / "talk one.wav_0000000000_0000000001.wav").write_bytes(b"stale")
    req = SliceRequest(project_root=str(tmp_path), min_length_ms=1000, max_clip_s=4.0)
    events = list(run_slice(req))
    result = events[-1]
    assert isinstance(result, Result)
    kinds = {e.kind for e in events if isinstance(e, Artifact)}
    assert kinds == {"folder", "manifest"}
    manifest = json.loads((layout.slices_dir / "manifest.json").read_text())
    clips = sorted(layout.slices_dir.glob("*.wav"))
    assert [c.name for c in clips] == sorted(c["name"] for c in manifest["clips"])
    assert len(clips) >= 5  # the two long sentences had to be split
    x = speech_with_gaps.audio
    for path in clips:
        m = re.fullmatch(r"talk one\.wav_(\d{10})_(\d{10})\.wav", path.name)
        assert m, path.name
        start, end = int(m[1]), int(m[2])
        clip, sr = sf.read(str(path), dtype="float32")
        info = sf.info(str(path))
        assert sr == SR and info.channels == 1 and info.subtype == "PCM_16"
        assert clip.shape[0] == end - start <= 4 * SR
        ref = peak_mix(x[start:end])
        assert np.abs(clip - ref).max() < 2 / 32768
    assert result.data["summary"]["max_s"] <= 4.0


def test_sources_prefer_each_files_cleaned_copy(tmp_path):
    from engine.audio.slice_step import find_sources

    layout = Layout(tmp_path, "demo")
    for folder, names in ((layout.raw_dir, ["a.wav", "b.wav"]), (layout.clean_dir, ["a.wav"])):
        folder.mkdir(parents=True)
        for n in names:
            sf.write(str(folder / n), np.zeros(100, np.float32), SR)
    req = SliceRequest(project_root=str(tmp_path))
    assert find_sources(req, layout) == [layout.clean_dir / "a.wav", layout.raw_dir / "b.wav"]


def test_max_clip_default_follows_gpu_memory():
    from engine.audio.gpu_hint import NO_GPU_MAX_S, max_clip_for

    assert max_clip_for(None) == NO_GPU_MAX_S
    assert max_clip_for(7.6) == 7.0  # an 8 GB card reports a little less
    assert max_clip_for(2.0) == 4.0 and max_clip_for(80.0) == 20.0
