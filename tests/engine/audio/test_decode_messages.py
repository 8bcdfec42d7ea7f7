"""What a person reads about a file we cannot import: one plain sentence per file, with
none of FFmpeg's or libsndfile's noise (error numbers, their codes, our own path)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio.decode import UNREADABLE, DecodeError, load_mono
from engine.audio.import_step import ImportRequest, run_import
from engine.events import Result
from engine.runner import drive

from .conftest import SR


@pytest.fixture
def damaged(tmp_path, speech_with_gaps) -> Path:
    d = tmp_path / "damaged"
    d.mkdir()
    x = speech_with_gaps.audio[: 12 * SR]
    sf.write(d / "good.wav", x, SR, subtype="PCM_16")
    good = (d / "good.wav").read_bytes()
    (d / "notes.mp3").write_text("these are my notes, not audio\n" * 20)
    (d / "header only.wav").write_bytes(good[:30])
    (d / "noise.wav").write_bytes(np.random.default_rng(0).bytes(5000))
    sf.write(d / "whole.flac", x, SR)
    flac = (d / "whole.flac").read_bytes()
    (d / "cut flac.flac").write_bytes(flac[: len(flac) * 2 // 3])
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(d / "good.wav"), "-c:a", "aac",
                    str(d / "memo.m4a")], check=True)
    (d / "cut memo.m4a").write_bytes((d / "memo.m4a").read_bytes()[:1500])
    for name in ("whole.flac", "memo.m4a"):
        (d / name).unlink()
    return d


NOISE = ("Errno", "[", "Invalid data found", "Error :", "lost sync", "/")


def test_import_reasons_are_plain_sentences(tmp_path, damaged):
    events = list(drive("import", run_import,
                        ImportRequest(project_root=str(tmp_path / "p"), sources=[str(damaged)])))
    end = events[-1]
    assert isinstance(end, Result), end
    reasons = {Path(f["source"]).name: f["reason"] for f in end.data["files"]}
    assert reasons.pop("good.wav") == ""
    assert reasons["notes.mp3"] == UNREADABLE
    assert reasons["noise.wav"] == UNREADABLE
    assert reasons["header only.wav"] == UNREADABLE
    assert reasons["cut memo.m4a"] == UNREADABLE
    assert reasons["cut flac.flac"].startswith("the audio data is damaged after about ")
    for name, reason in reasons.items():
        assert not any(bit in reason for bit in NOISE), reason
        assert any(getattr(e, "line", "") == f"{name}: error: {reason}" for e in events)


def test_the_library_detail_is_kept_on_the_error(damaged):
    with pytest.raises(DecodeError) as caught:
        load_mono(damaged / "notes.mp3")
    assert caught.value.reason == UNREADABLE
    assert "InvalidDataError" in caught.value.detail  # what FFmpeg said, for a bug report
