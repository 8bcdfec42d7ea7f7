"""The import step on a folder of good and bad recordings: every bad file gets its one-line
reason, the rest are decoded into audio/raw with a report, and sources stay untouched."""
from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio.decode import DecodeError, load_mono, probe
from engine.audio.import_step import ImportRequest, run_import, safe_stem
from engine.audio.loudness import LoudnessMeter, k_weighting, peak_range_gain_db
from engine.events import Artifact, Failed, Result
from engine.layout import Layout
from engine.runner import drive

from .conftest import SR


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory, speech_with_gaps) -> Path:
    d = tmp_path_factory.mktemp("recordings")
    x = speech_with_gaps.audio
    sf.write(str(d / "good take.wav"), np.stack([x, 0.5 * x], axis=1), SR, subtype="PCM_16")
    sf.write(str(d / "我的 录音 01.flac"), x[: 5 * SR], SR)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(d / "good take.wav"), "-c:a", "aac",
                    "-b:a", "64k", str(d / "phone memo.m4a")], check=True)
    ff = ["ffmpeg", "-v", "error", "-y"]
    subprocess.run(ff + ["-i", str(d / "我的 录音 01.flac"), "-c:a", "libopus",
                         str(d / "voice note.opus")], check=True)
    subprocess.run(ff + ["-i", str(d / "我的 录音 01.flac"), "-c:a", "libmp3lame",
                         str(d / "podcast.mp3")], check=True)
    video = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=5", "-c:v", "mpeg4"]
    subprocess.run(ff + video + ["-i", str(d / "我的 录音 01.flac"), "-c:a", "aac",
                                 "-shortest", str(d / "screen capture.mp4")], check=True)
    subprocess.run(ff + video + [str(d / "no sound.mp4")], check=True)
    (d / "empty.wav").write_bytes(b"")
    (d / "truncated.wav").write_bytes((d / "good take.wav").read_bytes()[:30])
    (d / "notes.mp3").write_text("these are my notes, not audio\n" * 20)
    sf.write(str(d / "blip.wav"), x[int(0.6 * SR): int(0.8 * SR)], SR)
    sf.write(str(d / "quiet room.wav"), np.zeros(60 * SR, np.float32), SR)
    return d


@pytest.fixture(scope="module")
def imported(tmp_path_factory, mixed_folder):
    root = tmp_path_factory.mktemp("project")
    before = _digest(mixed_folder)
    events = list(drive("import", run_import,
                        ImportRequest(project_root=str(root), sources=[str(mixed_folder)])))
    assert _digest(mixed_folder) == before  # sources are never modified
    return root, events


def _by_file(events) -> dict[str, dict]:
    result = events[-1]
    assert isinstance(result, Result), result
    return {Path(f["source"]).name: f for f in result.data["files"]}


def test_bad_inputs_each_get_one_line(imported):
    _, events = imported
    files = _by_file(events)
    assert files["empty.wav"]["status"] == "error"
    assert files["empty.wav"]["reason"] == "empty file (0 bytes)"
    assert files["truncated.wav"]["status"] == "error"
    assert files["notes.mp3"]["status"] == "error"
    for name in ("truncated.wav", "notes.mp3"):
        assert files[name]["reason"] and "\n" not in files[name]["reason"]
    assert files["quiet room.wav"]["status"] == "skipped"
    assert files["quiet room.wav"]["reason"].startswith("silent")
    assert files["no sound.mp4"]["status"] == "error"
    assert files["no sound.mp4"]["reason"] == "no audio stream in this file"
    assert files["blip.wav"]["status"] == "warning"
    assert "very short (0.20 s)" in files["blip.wav"]["warnings"][0]


def test_good_files_are_decoded_with_a_report(imported):
    root, events = imported
    raw = Layout(root, "x").raw_dir
    files = _by_file(events)
    good = files["good take.wav"]
    assert good["name"] == "good take.wav" and good["channels"] == 2
    assert good["sample_rate"] == SR and good["duration_s"] == pytest.approx(20.95, abs=0.5)
    assert -5 < good["peak_dbfs"] < 0 and -40 < good["loudness_lufs"] < -10
    assert good["clipped_share"] == 0 and 0.1 < good["silence_share"] < 0.6
    cjk = files["我的 录音 01.flac"]
    assert cjk["name"] == "我的 录音 01.wav" and (raw / cjk["name"]).is_file()
    m4a = files["phone memo.m4a"]
    assert m4a["status"] in ("ok", "warning") and m4a["duration_s"] == pytest.approx(
        good["duration_s"], abs=0.1)
    for name in ("voice note.opus", "podcast.mp3", "screen capture.mp4"):
        assert files[name]["status"] == "ok", files[name]
        assert files[name]["duration_s"] == pytest.approx(5.0, abs=0.1), name
    assert sorted(p.name for p in raw.glob("*.wav")) == sorted(
        ["blip.wav", "good take.wav", "phone memo.wav", "我的 录音 01.wav", "voice note.wav",
         "podcast.wav", "screen capture.wav"])
    copy, sr = sf.read(str(raw / "good take.wav"), dtype="float32")
    source, _ = sf.read(str(Path(good["source"])), dtype="float32")
    assert sr == SR and np.array_equal(copy, source)
    report = json.loads((raw / "report.json").read_text(encoding="utf-8"))
    assert {f["name"] for f in report["files"]} == {p.name for p in raw.glob("*.wav")}
    assert {Path(f["source"]).name for f in report["not_imported"]} == {
        "empty.wav", "truncated.wav", "notes.mp3", "quiet room.wav", "no sound.mp4"}
    assert report["total_s"] > 60 and report["guidance"] == ""  # inside the 1–30 min guidance
    kinds = sorted(e.kind for e in events if isinstance(e, Artifact))
    assert kinds == ["folder", "report"]


def test_reimport_skips_unchanged_and_renames_clashes(tmp_path, speech_with_gaps):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    x = speech_with_gaps.audio[: 3 * SR]
    sf.write(str(a / "take.wav"), x, SR)
    sf.write(str(b / "take.ogg"), x, SR)
    req = ImportRequest(project_root=str(tmp_path / "p"), sources=[str(a), str(b)])
    first = list(run_import(req))[-1]
    assert sorted(f["name"] for f in first.data["files"]) == ["take.wav", "take_2.wav"]
    assert first.data["guidance"].startswith("only 0.1 min")
    again = list(run_import(req))
    assert [f for f in again[-1].data["files"]] == []
    assert sum("already imported" in getattr(e, "line", "") for e in again) == 2


def test_files_inside_the_project_are_not_reimported(tmp_path, speech_with_gaps):
    root = tmp_path / "p"
    sf.write(str(tmp_path / "take.wav"), speech_with_gaps.audio[: 2 * SR], SR)
    list(run_import(ImportRequest(project_root=str(root), sources=[str(tmp_path / "take.wav")])))
    copy = root / "audio" / "raw" / "take.wav"
    before = copy.read_bytes()
    events = list(run_import(ImportRequest(project_root=str(root), sources=[str(copy)])))
    (f,) = events[-1].data["files"]
    assert f["reason"] == "already inside this project's audio folder"
    assert copy.read_bytes() == before


def test_normalize_brings_peaks_into_range(tmp_path, speech_with_gaps):
    x = speech_with_gaps.audio[: 4 * SR]
    loud = x / np.abs(x).max() * 10 ** (-1 / 20)
    soft = x / np.abs(x).max() * 10 ** (-20 / 20)
    sf.write(str(tmp_path / "loud.wav"), loud, SR, subtype="FLOAT")
    sf.write(str(tmp_path / "soft.wav"), soft, SR, subtype="FLOAT")
    sf.write(str(tmp_path / "fine.wav"), x / np.abs(x).max() * 10 ** (-7 / 20), SR,
             subtype="FLOAT")
    root = tmp_path / "p"
    files = [str(tmp_path / n) for n in ("loud.wav", "soft.wav", "fine.wav")]
    list(run_import(ImportRequest(project_root=str(root), sources=files, normalize=True)))
    peaks = {}
    for name in ("loud", "soft", "fine"):
        y, _ = sf.read(str(root / "audio/raw" / f"{name}.wav"), dtype="float32")
        peaks[name] = 20 * np.log10(np.abs(y).max())
    assert peaks["loud"] == pytest.approx(-6, abs=0.05)
    assert peaks["soft"] == pytest.approx(-9, abs=0.05)
    assert peaks["fine"] == pytest.approx(-7, abs=0.05)


def test_nothing_importable_fails_with_reasons(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    events = list(drive("import", run_import, ImportRequest(
        project_root=str(tmp_path / "p"), sources=[str(tmp_path / "empty.wav"),
                                                   str(tmp_path / "missing.wav")])))
    assert isinstance(events[-1], Failed)
    assert "empty file (0 bytes)" in events[-1].hint and "not found" in events[-1].hint


def test_probe_and_load_reasons(tmp_path, mixed_folder):
    with pytest.raises(DecodeError, match="empty file"):
        probe(mixed_folder / "empty.wav")
    x, sr = load_mono(mixed_folder / "phone memo.m4a", 16000)
    assert sr == 16000 and x.dtype == np.float32 and x.shape[0] == pytest.approx(20.95 * 16000,
                                                                                   rel=0.03)


def test_safe_stem_keeps_spaces_and_cjk():
    assert safe_stem("我的 录音|01") == "我的 录音_01"
    assert safe_stem("...") == "audio"


def test_k_weighting_matches_the_standard_at_48k():
    (b1, a1), (b2, a2) = k_weighting(48000)
    assert np.allclose(b1, [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-6)
    assert np.allclose(a1, [1.0, -1.69065929318241, 0.73248077421585], atol=1e-6)
    assert np.allclose(b2, [1.0, -2.0, 1.0], atol=1e-6)
    assert np.allclose(a2, [1.0, -1.99004745483398, 0.99007225036621], atol=1e-6)


def test_sine_loudness_is_minus_23_lufs():
    sr = 48000
    t = np.arange(10 * sr) / sr
    x = (0.1 * np.sin(2 * np.pi * 997 * t)).astype(np.float32)[:, None]
    meter = LoudnessMeter(sr, 1)
    for k in range(0, x.shape[0], 12345):  # odd block sizes: state carried across blocks
        meter.add(x[k:k + 12345])
    assert meter.integrated() == pytest.approx(-23.0, abs=0.1)
    assert meter.silence_share() == 0.0


def test_peak_range_gain():
    assert peak_range_gain_db(-1.0) == pytest.approx(-5.0)
    assert peak_range_gain_db(-20.0) == pytest.approx(11.0)
    assert peak_range_gain_db(-7.0) == 0.0
    assert peak_range_gain_db(float("-inf")) == 0.0


def test_stop_keeps_what_was_imported_and_a_rerun_resumes(tmp_path, speech_with_gaps):
    from engine.events import Log, StopToken

    src = tmp_path / "src"
    src.mkdir()
    for k in range(3):
        sf.write(str(src / f"take {k}.wav"), speech_with_gaps.audio[: 2 * SR], SR)
    req = ImportRequest(project_root=str(tmp_path / "p"), sources=[str(src)])
    stop = StopToken()
    events = []
    for ev in drive("import", run_import, req, stop=stop):
        events.append(ev)
        if isinstance(ev, Log) and ev.line.startswith("take 0.wav: ok"):
            stop.request()
    assert isinstance(events[-1], Failed) and "Stopped" in events[-1].reason
    assert [p.name for p in (tmp_path / "p/audio/raw").glob("*.wav")] == ["take 0.wav"]
    again = list(drive("import", run_import, req))
    assert isinstance(again[-1], Result)
    assert sorted(f["name"] for f in again[-1].data["files"]) == ["take 1.wav", "take 2.wav"]
