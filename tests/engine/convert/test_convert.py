"""``gsv convert`` end to end with the tiny trained voice: espeak-ng speech in, the same
timing out in the voice; long sources cut at pauses and joined back with their gaps; the
detached job; refusals as sentences; earlier results never replaced."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from engine import jobs
from engine.convert.plan import shift_pitch
from engine.project import load_project
from gsv_tui.cli import main
from tests.helpers.speech import silence, speak

SR = 32000
SENTENCE = "Hello there, this is the source speech for the voice changer."
BASE = ["--lang", "en", "--device", "cpu", "--offline"]


def _result(voice, name="src"):
    wav = voice / "output" / "converted" / f"{name}.wav"
    audio, sr = sf.read(wav, dtype="float32")
    assert sr == SR
    return audio, json.loads(wav.with_suffix(".json").read_text(encoding="utf-8"))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def test_gsv_convert_speaks_the_source_again_with_its_duration(voice, tmp_path, capsys):
    src = speak(SENTENCE, tmp_path / "in" / "src.wav")
    before = src.read_bytes()
    assert main(["convert", str(src), "-C", str(voice), "--text", SENTENCE, *BASE]) == 0
    assert "Converted 1 of 1 file(s) into output/converted/" in capsys.readouterr().err
    source, _ = sf.read(src, dtype="float32")
    audio, side = _result(voice)
    # What the decoder rendered from the source's tokens, not only the padded file,
    # follows the source's length (within 10 %).
    [piece] = side["pieces"]
    assert abs(piece["rendered_s"] - len(source) / SR) <= 0.1 * len(source) / SR
    assert abs(len(audio) - len(source)) <= 0.1 * len(source)
    assert _rms(audio) > 1e-4  # it says something (a tiny random decoder speaks softly)
    assert piece["text"] == SENTENCE and side["source"] == str(src)
    assert src.read_bytes() == before  # the source is only read
    assert load_project(voice).step("convert").status == "done"

    # A second run never replaces the first result.
    first = (voice / "output" / "converted" / "src.wav").read_bytes()
    assert main(["convert", str(src), "-C", str(voice), "--text", SENTENCE, "--seed", "7",
                 *BASE]) == 0
    assert (voice / "output" / "converted" / "src.wav").read_bytes() == first
    second, side2 = _result(voice, "src-2")
    assert side2["request"]["seed"] == 7 and len(second) == len(audio)


def test_a_long_source_is_cut_at_pauses_and_joined_back_with_its_gaps(voice, tmp_path,
                                                                       capsys):
    lines = ["Good morning to you.", "The weather is fine.", "See you later then."]
    parts, regions, pos = [], [], 0
    for i, line in enumerate(lines):
        clip, _ = sf.read(speak(line, tmp_path / f"l{i}.wav"), dtype="float32")
        parts.append(clip)
        regions.append(("speech", pos, pos + len(clip)))
        pos += len(clip)
        if i < len(lines) - 1:
            gap = silence(1.5)
            parts.append(gap)
            regions.append(("gap", pos, pos + len(gap)))
            pos += len(gap)
    source = np.concatenate(parts)
    src = tmp_path / "long.wav"
    sf.write(src, source, SR, subtype="PCM_16")
    assert len(source) / SR > 3.0 * 2  # far longer than the longest piece below

    assert main(["convert", str(src), "-C", str(voice), "--max-clip", "3", "--text",
                 " ".join(lines), *BASE]) == 0
    capsys.readouterr()
    audio, side = _result(voice, "long")
    pieces = side["pieces"]
    assert len(pieces) >= 3 and all(p["end_s"] - p["start_s"] <= 3.0 for p in pieces)
    assert all(abs(p["rendered_s"] - (p["end_s"] - p["start_s"])) <= 0.1 for p in pieces)
    assert abs(len(audio) - len(source)) <= 0.1 * len(source)
    assert " ".join(p["text"] for p in pieces).split() == " ".join(lines).split()
    for kind, a, b in regions:
        if kind == "gap":  # the middle of each pause stays a pause, at the same place
            mid = (a + b) // 2
            assert not np.any(audio[mid - int(0.25 * SR):mid + int(0.25 * SR)])
        else:  # each sentence is spoken where the source spoke it
            assert _rms(audio[a:b]) > 1e-4


def test_speed_and_pitch(voice, tmp_path, capsys):
    src = speak(SENTENCE, tmp_path / "src.wav")
    source, _ = sf.read(src, dtype="float32")
    assert main(["convert", str(src), "-C", str(voice), "--text", SENTENCE, "--speed", "1.25",
                 "--pitch", "5", *BASE]) == 0
    capsys.readouterr()
    audio, side = _result(voice)
    want = len(source) / 1.25
    assert abs(side["pieces"][0]["rendered_s"] * SR - want) <= 0.1 * want
    assert abs(len(audio) - want) <= 0.1 * want
    assert side["request"]["pitch_semitones"] == 5.0
    # Pitch changes only the pitch: the same rendering (same seed), shifted.
    assert main(["convert", str(src), "-C", str(voice), "--text", SENTENCE, "--speed", "1.25",
                 "--pitch", "0", *BASE]) == 0
    capsys.readouterr()
    plain, _ = _result(voice, "src-2")
    # (not closer: the tiny voice speaks ~13 LSB loud, so 16-bit rounding is a large noise)
    assert _corr(shift_pitch(plain, 5.0), audio) > 0.7 and abs(_corr(plain, audio)) < 0.2


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.slow  # a fresh child process imports torch, transformers and English G2P
def test_convert_runs_detached(voice, tmp_path, capsys):
    src = speak("A detached conversion.", tmp_path / "src.wav")
    assert main(["convert", str(src), "-C", str(voice), "--text", "A detached conversion.",
                 "--detach", *BASE]) == 0
    assert "started job" in capsys.readouterr().out
    [job] = jobs.list_jobs(voice, "convert")
    job = jobs.wait(job.run_dir, timeout=120)
    assert job.state == "done", (job.reason, jobs.store.tail_log(job.run_dir))
    audio, side = _result(voice)
    assert side["source"] == str(src) and len(audio) > 0


def test_bad_input_gets_a_sentence(voice, tmp_path, capsys):
    a = speak("One.", tmp_path / "a.wav")
    b = speak("Two.", tmp_path / "b.wav")
    assert main(["convert", str(a), str(b), "-C", str(voice), "--text", "One.", *BASE]) == 1
    err = capsys.readouterr().err
    assert "One text was given for 2 source files" in err and "what to do:" in err
    assert main(["convert", str(tmp_path / "nope.wav"), "-C", str(voice), *BASE]) == 1
    err = capsys.readouterr().err
    assert "Not found:" in err and "Traceback" not in err
    assert main(["convert", str(a), "-C", str(voice), "--ref", "audio/slices/short.wav",
                 "--text", "One.", *BASE]) == 1
    assert "must be 3 to 10 s" in capsys.readouterr().err
    assert not (voice / "output" / "converted").exists()


def _drain(gen):
    while True:
        try:
            next(gen)
        except StopIteration as done:
            return done.value


def test_without_a_text_the_projects_asr_transcribes_each_piece(voice, tmp_path, capsys,
                                                                 tiny_whisper):
    from engine.asr.step import open_backend
    from engine.convert.step import to_16k
    from engine.project import set_step_settings
    from engine.requests import build_request

    src = speak(SENTENCE, tmp_path / "src.wav")
    # No recogniser on this machine and offline: a sentence, nothing written.
    assert main(["convert", str(src), "-C", str(voice), *BASE]) == 1
    err = capsys.readouterr().err
    assert "what to do:" in err and "Traceback" not in err
    assert not (voice / "output" / "converted").exists()

    # The project's ASR settings (what `gsv asr` would use) pick the recogniser.
    set_step_settings(voice, "asr", {"model_dir": str(tiny_whisper),
                                     "backend": "faster-whisper", "beam_size": 1})
    assert main(["convert", str(src), "-C", str(voice), *BASE]) == 0
    assert "ASR heard" in capsys.readouterr().err
    audio, side = _result(voice)
    [piece] = side["pieces"]
    asr = build_request(load_project(voice), "asr", {"language": "en",
                                                    "allow_download": False})
    backend = _drain(open_backend(asr, "faster-whisper", "tiny", "cpu"))
    from engine.asr.backend import ClipAudio

    source, _ = sf.read(src, dtype="float32")
    [heard] = list(backend.transcribe([ClipAudio("x", to_16k(source))]))
    assert piece["text"] == heard.text.strip()
    assert abs(len(audio) - len(source)) <= 0.1 * len(source)


def _request(voice, sources, tiny_whisper):
    """The request the CLI or the pane would build; the project's ASR is the tiny Whisper."""
    from engine.project import set_step_settings
    from engine.requests import build_request

    set_step_settings(voice, "asr", {"model_dir": str(tiny_whisper),
                                     "backend": "faster-whisper", "beam_size": 1})
    return build_request(load_project(voice), "convert",
                         {"language": "en", "device": "cpu", "allow_download": False},
                         inputs={"sources": sources, "text": ""})


def test_a_folder_converts_each_file_and_names_the_one_it_cannot_read(voice, tmp_path,
                                                                       tiny_whisper):
    from engine.events import Result
    from engine.runner import drive
    from engine.steps import entry

    folder = tmp_path / "takes"
    folder.mkdir()
    (folder / "b.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 10)
    speak("The third take.", folder / "c.flac")
    req = _request(voice, [str(folder)], tiny_whisper)
    events = list(drive("convert", entry("convert").run_func(), req))
    [res] = [e for e in events if isinstance(e, Result)]
    assert [f["path"] for f in res.data["files"]] == ["output/converted/c.wav"]
    [skipped] = res.data["skipped"]
    assert skipped["source"].endswith("b.wav") and skipped["reason"]
    assert "Traceback" not in skipped["reason"]


def test_stop_between_files_keeps_what_is_done_and_leaves_the_step_resumable(voice, tmp_path,
                                                                              tiny_whisper):
    from engine.events import Artifact, Result, StopToken
    from engine.runner import drive
    from engine.steps import entry

    a = speak("First.", tmp_path / "a.wav")
    b = speak("Second.", tmp_path / "b.wav")
    req = _request(voice, [str(a), str(b)], tiny_whisper)
    stop = StopToken()
    events = []
    for ev in drive("convert", entry("convert").run_func(), req, stop=stop):
        events.append(ev)
        if isinstance(ev, Artifact):  # the first file is written: ask to stop now
            stop.request()
    [res] = [e for e in events if isinstance(e, Result)]
    assert res.data["stopped"] and len(res.data["files"]) == 1
    assert sorted(p.name for p in (voice / "output" / "converted").glob("*.wav")) == ["a.wav"]
    assert load_project(voice).step("convert").status == "pending"
