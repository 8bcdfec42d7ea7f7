"""Packing clips into windows and giving words back: pure functions, no model."""
from __future__ import annotations

import numpy as np

from engine.asr.backend import SAMPLE_RATE, compression_ratio
from engine.asr.packing import Span, assign_words, attach_punctuation, pack, split_long
from engine.asr.records import AsrRecord, read_records, settings_key, write_records


def _sec(s: float) -> np.ndarray:
    return np.ones(int(s * SAMPLE_RATE), np.float32)


def test_pack_fills_windows_in_order_with_gaps():
    pieces = [(i, _sec(s)) for i, s in enumerate([5, 6, 7, 8, 9, 3])]
    windows = pack(pieces, max_s=28, gap_s=1.0)
    # 5+1+6+1+7 = 20 s; adding 1+8 would pass 28 s, so clip 3 opens the next window
    assert [[sp.clip for sp in w.spans] for w in windows] == [[0, 1, 2], [3, 4, 5]]
    w = windows[0]
    assert [(sp.start_s, sp.end_s) for sp in w.spans] == [(0, 5), (6, 12), (13, 20)]
    assert len(w.audio) / SAMPLE_RATE == 20
    assert w.audio[int(5.5 * SAMPLE_RATE)] == 0  # the gap is silence


def test_pack_off_gives_one_window_per_piece():
    windows = pack([(0, _sec(2)), (1, _sec(2))], pack_clips=False)
    assert [len(w.spans) for w in windows] == [1, 1]


def test_split_long_keeps_every_sample():
    audio = np.arange(int(61 * SAMPLE_RATE), dtype=np.float32)
    parts = split_long(audio, 28)
    assert [len(p) / SAMPLE_RATE for p in parts] == [28, 28, 5]
    assert np.array_equal(np.concatenate(parts), audio)


def test_words_go_to_the_clip_holding_their_middle_or_the_nearest():
    spans = [Span(0, 0.0, 3.0), Span(1, 4.0, 7.0)]
    words = [dict(word=" a", start=0.5, end=1.0), dict(word=" b", start=2.8, end=3.6),
             dict(word=" c", start=3.7, end=4.2), dict(word=" d", start=7.5, end=8.0)]
    got = assign_words(spans, words)
    assert [w["word"] for w in got[0]] == [" a", " b"]  # middle 3.2: nearer clip 0's end
    assert [w["word"] for w in got[1]] == [" c", " d"]


def test_sentence_final_punctuation_sticks_to_the_word_before():
    words = [dict(word=" end", ntok=1, logp=-0.1), dict(word=".", ntok=1, logp=-0.2),
             dict(word=" Next", ntok=1, logp=-0.3)]
    out = attach_punctuation(words)
    assert [w["word"] for w in out] == [" end.", " Next"]
    assert out[0]["ntok"] == 2 and abs(out[0]["logp"] + 0.3) < 1e-9


def test_records_round_trip_and_tolerate_a_torn_line(tmp_path):
    path = tmp_path / "records.jsonl"
    recs = [AsrRecord("audio/slices/a.wav", "0" * 64, "k", text="héllo", language="en",
                      compression_ratio=compression_ratio("héllo"))]
    write_records(path, recs)
    path.write_text(path.read_text() + '{"clip": "audio/slices/b.wav", "sha')
    back = read_records(path)
    assert list(back) == ["audio/slices/a.wav"] and back["audio/slices/a.wav"].text == "héllo"
    assert settings_key(a=1, b="x") == settings_key(b="x", a=1) != settings_key(a=2, b="x")
    assert compression_ratio("") is None
    assert compression_ratio("la " * 100) > 2.4  # a looping transcript stands out
