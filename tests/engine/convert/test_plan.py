"""The voice changer's arithmetic on real arrays and folders: where a long source is cut,
how a given text is shared, and that pieces go back at their source offsets."""
from __future__ import annotations

import numpy as np
import pytest

from engine.convert.plan import (SR, Span, cut, find_sources, output_stem, place, share_text,
                                 shift_pitch)
from engine.events import StepError


def _bursts(layout: list[tuple[str, float]]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Noise bursts ("s") and digital silence ("-"), with the bursts' sample ranges."""
    rng = np.random.default_rng(0)
    parts, speech, pos = [], [], 0
    for kind, seconds in layout:
        n = int(seconds * SR)
        parts.append(rng.uniform(-0.3, 0.3, n).astype(np.float32) if kind == "s"
                     else np.zeros(n, np.float32))
        if kind == "s":
            speech.append((pos, pos + n))
        pos += n
    return np.concatenate(parts), speech


def test_a_source_that_fits_is_one_piece():
    x = np.zeros(SR * 3, np.float32)
    assert cut(x, max_clip_s=5) == [Span(0, SR * 3)]
    assert cut(np.zeros(0, np.float32), 5) == []


def test_a_long_source_is_cut_at_its_pauses_into_pieces_that_fit():
    x, speech = _bursts([("s", 2.0), ("-", 1.2), ("s", 1.5), ("-", 0.8), ("s", 2.5),
                         ("-", 1.0), ("s", 4.5)])
    spans = cut(x, max_clip_s=3.0)
    assert len(spans) >= 5  # four bursts, the last one too long for one piece
    assert all(s.seconds <= 3.0 for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))  # in order, no overlap
    for start, end in speech:  # every sample of speech is in some piece
        covered = sum(max(0, min(end, s.end) - max(start, s.start)) for s in spans)
        assert covered == end - start
    # Pauses longer than the silence kept at cuts (0.5 s each side) leave a gap.
    gaps = [(a.end, b.start) for a, b in zip(spans, spans[1:]) if b.start > a.end]
    assert len(gaps) == 3
    for (g0, g1), (_, burst_end), (next_start, _) in zip(gaps, speech, speech[1:]):
        assert burst_end <= g0 < g1 <= next_start


def test_a_given_text_is_shared_in_proportion_to_the_pieces():
    spans = [Span(0, 2 * SR), Span(3 * SR, 4 * SR), Span(5 * SR, 6 * SR)]
    words = "one two three four five six seven eight"
    assert share_text(words, spans, "en") == ["one two three four", "five six", "seven eight"]
    assert share_text("你好世界今天", spans[:2], "zh") == ["你好世界", "今天"]
    assert share_text("  Hello.  ", spans[:1], "en") == ["Hello."]


def test_pieces_go_back_at_their_offsets_with_silence_between():
    spans = [Span(100, 400), Span(1000, 1300)]
    a = np.ones(280, np.float32)  # the decoder gives whole codes: a little short
    b = np.full(350, 0.5, np.float32)  # or long: trimmed to its place
    out = place(1500, [(spans[0], a), (spans[1], b)])
    assert len(out) == 1500
    assert np.all(out[:100] == 0) and np.all(out[100:380] == 1) and np.all(out[380:1000] == 0)
    assert np.all(out[1000:1300] == 0.5) and np.all(out[1300:] == 0)
    fast = place(1500, [(spans[1], b[:150])], speed=2.0)
    assert len(fast) == 750 and np.all(fast[500:650] == 0.5) and fast[499] == 0


def test_sources_are_files_or_folders_and_missing_ones_are_named(tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("b.wav", "a.flac", "notes.txt", ".hidden.wav"):
        (tmp_path / "in" / name).write_bytes(b"x")
    found = find_sources(["in", str(tmp_path / "in" / "b.wav")], tmp_path)
    assert [p.name for p in found] == ["a.flac", "b.wav"]  # once each, folder order
    with pytest.raises(StepError, match="Not found: nowhere.wav"):
        find_sources(["nowhere.wav"], tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(StepError, match="no speech to convert"):
        find_sources(["empty"], tmp_path)


def test_output_names_are_plain_file_names():
    from pathlib import Path

    assert output_stem(Path("/x/take one.wav")) == "take one"
    assert output_stem(Path("/x/a|b:c.wav")) == "a_b_c"
    assert output_stem(Path("/x/....wav")) == "converted"


def _peak_hz(x: np.ndarray) -> float:
    return float(np.fft.rfftfreq(len(x), 1 / SR)[np.argmax(np.abs(np.fft.rfft(x)))])


@pytest.mark.parametrize("semitones, hz", [(12, 600.0), (-12, 150.0), (5, 300 * 2 ** (5 / 12))])
def test_pitch_shift_moves_the_pitch_and_keeps_the_length(semitones, hz):
    t = np.arange(2 * SR) / SR
    tone = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    out = shift_pitch(tone, semitones)
    assert len(out) == len(tone) and out.dtype == np.float32
    assert abs(_peak_hz(out) - hz) <= 2.0
    assert shift_pitch(tone, 0.0) is tone
