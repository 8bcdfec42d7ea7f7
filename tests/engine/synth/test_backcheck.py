"""The ASR back-check with the real Whisper base model (the ASR tests' copy from the
package index): real speech that says its text passes, a mismatched text scores badly and
the piece is re-rolled; the best take is kept and the sidecar lists every take."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.events import Log, Result, StepError
from engine.synth import backcheck
from engine.synth.backcheck import judge, reroll_seed, text_error
from engine.synth.request import SynthRequest
from engine.synth.step import run_synthesize
from tests.engine.synth.voicekit import EN_REF
from tests.helpers.speech import speech_array

RIGHT = "The quick brown fox jumps over the lazy dog."
WRONG = "Please call Stella and ask her to bring these things from the store."


@pytest.fixture(scope="module")
def whisper_base() -> Path:
    from tests.engine.asr.whisper_base import whisper_base_dir

    return whisper_base_dir()


def test_error_metrics_and_duration_flags():
    assert text_error(RIGHT, "the quick brown fox jumps over the lazy dog") == ("wer", 0.0)
    metric, err = text_error(RIGHT, "the quick brown cat")
    assert metric == "wer" and err == pytest.approx(6 / 9)  # fox->cat, 5 words lost
    metric, err = text_error("今天天气很好。", "今天天汽很好")
    assert metric == "cer" and err == pytest.approx(1 / 6)
    ok = judge(RIGHT, RIGHT, seconds=2.5, phones=35)
    assert ok.passed and ok.score == 1.0 and not ok.flags
    # The words were heard, but 20 s for 35 phonemes is leaked reference or a loop.
    long = judge(RIGHT, RIGHT, seconds=20.0, phones=35)
    assert not long.passed and long.flags == ["too long"] and long.score == 0.5
    assert judge(RIGHT, RIGHT, seconds=0.5, phones=35).flags == ["too short"]
    assert not judge(RIGHT, "", seconds=2.5, phones=35).passed
    seeds = [reroll_seed(7, k) for k in range(4)]
    assert seeds[0] == 7 and len(set(seeds)) == 4 and seeds == [reroll_seed(7, k) for k in range(4)]


def test_whisper_base_hears_real_speech_and_catches_a_mismatch(whisper_base, tmp_path):
    checker = backcheck.open_checker(str(whisper_base), "en", "cpu")
    audio = speech_array(RIGHT, tmp_path)
    good = checker.check(RIGHT, audio, 35, "en", speed=1.0, max_error=0.35)
    assert good.passed and good.score >= 0.7, good  # espeak is robotic: a word or two misheard
    bad = checker.check(WRONG, audio, 50, "en", speed=1.0, max_error=0.35)
    assert not bad.passed and bad.score < 0.4, bad


def test_a_folder_without_a_model_is_a_sentence(tmp_path):
    with pytest.raises(StepError, match="holds no ASR model"):
        backcheck.open_checker(str(tmp_path), "en", "cpu")


def _run(root, **kw):
    kw = {"device": "cpu", "allow_download": False, "language": "en", "ref_wav": EN_REF[0],
          "cut_method": "cut0"} | kw
    events = list(run_synthesize(SynthRequest(str(root), **kw)))
    assert isinstance(events[-1], Result), events[-1]
    return events, events[-1]


@pytest.mark.slow  # ~10-25 s on the shared box: Whisper base twice + the tiny voice
def test_a_mismatched_piece_is_rerolled_and_the_good_take_kept(voice, whisper_base, tmp_path,
                                                                monkeypatch):
    """The first seed's take says another sentence (real espeak speech stands in for the
    voice, so the words are known); the back-check fails it, the re-roll says the text and
    is kept; the sidecar lists both takes with their seeds and scores."""
    from engine.synth import takes
    from engine.synth.pipeline import SR, Take, phones_and_bert

    right, wrong = speech_array(RIGHT, tmp_path / "r"), speech_array(WRONG, tmp_path / "w")

    def fake_take(voice_, ref, piece, language, seed, opts):
        ids, _ = phones_and_bert(voice_, piece, language)
        audio = wrong if seed == 41 else right
        return Take(seed, len(audio) // 1280, len(ids), audio)

    monkeypatch.setattr(takes, "speak_take", fake_take)
    events, res = _run(voice, text=RIGHT, seed=41, output_name="checked",
                       asr_model_dir=str(whisper_base), max_rerolls=3)
    doc = json.loads((voice / "output" / "checked.json").read_text(encoding="utf-8"))
    (piece,) = doc["pieces"]
    assert piece == res.data["pieces"][0]
    first, second = piece["takes"]  # passed on the second take: no more re-rolls
    assert first["seed"] == 41 and not first["passed"] and first["score"] < 0.4
    assert second["seed"] == reroll_seed(41, 1) and second["passed"] and second["score"] >= 0.7
    assert piece["take"] == 1 and piece["seed"] == second["seed"] and piece["passed"]
    audio, _ = sf.read(voice / "output" / "checked.wav", dtype="float32")
    pause = int(0.3 * SR)
    assert np.allclose(audio[:-pause], right, atol=1 / 32767)  # the kept take, 16-bit
    logs = [e.line for e in events if isinstance(e, Log)]
    assert any("re-rolling (2/4)" in line for line in logs)
    assert any(line.startswith("piece  ok  score") for line in logs)  # the printed table
    assert "1 of 1 piece(s) passed" in res.summary


def test_tiny_voice_every_take_fails_and_the_best_is_kept(voice, whisper_base):
    """Real tiny models (noise to any ear): every take fails, all are listed, and the
    kept one is the best-scoring take, sample for sample (re-speaking its seed). The
    check is on by default once a Whisper model is in the models folder."""
    from engine.asr.models import whisper_spec
    from engine.hub import default_dir

    installed = default_dir(whisper_spec("base"))
    installed.parent.mkdir(parents=True, exist_ok=True)
    installed.symlink_to(whisper_base, target_is_directory=True)
    events, res = _run(voice, text="Hello there, how are you today?", seed=5,
                       output_name="tiny", max_rerolls=2)
    assert any("Back-check with faster-whisper" in e.line for e in events if isinstance(e, Log))
    (piece,) = json.loads((voice / "output" / "tiny.json").read_text())["pieces"]
    assert [t["seed"] for t in piece["takes"]] == [reroll_seed(5, k) for k in range(3)]
    assert not any(t["passed"] for t in piece["takes"]) and not piece["passed"]
    best = max(range(3), key=lambda k: (piece["takes"][k]["score"], -k))
    assert piece["take"] == best and piece["seed"] == piece["takes"][best]["seed"]
    # Picking the take again (its seed pinned, no check) gives the same samples.
    _, again = _run(voice, text="Hello there, how are you today?", seed=5, output_name="again",
                    piece_seeds={"0": piece["seed"]}, back_check=False)
    a, _ = sf.read(voice / "output" / "tiny.wav", dtype="float32")
    b, _ = sf.read(voice / "output" / "again.wav", dtype="float32")
    assert np.array_equal(a, b) and "takes" not in again.data["pieces"][0]


def test_no_installed_model_skips_the_check_with_a_note(voice):
    events, res = _run(voice, text="Hello there.", seed=1, output_name="plain")
    assert any("Back-check skipped" in e.line for e in events if isinstance(e, Log))
    assert "takes" not in res.data["pieces"][0] and "Back-check" not in res.summary


@pytest.mark.slow  # a second full CLI run; ~20-30 s on the loaded box
def test_gsv_synthesize_prints_the_table(voice, whisper_base, capsys):
    from gsv_tui.cli import main

    assert main(["synthesize", "-C", str(voice), "--text", "Hello there. How are you?",
                 "--lang", "en", "--cut", "cut4", "--seed", "9", "--max-rerolls", "1",
                 "--asr-model-dir", str(whisper_base), "--out", "cli", "--device", "cpu",
                 "--offline"]) == 0
    err = capsys.readouterr().err
    lines = err.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("piece  ok  score"))
    assert lines[head + 1].split()[:2] == ["0", "✗"] and lines[head + 2].split()[:2] == ["1", "✗"]
    assert "Back-check: 0 of 2 piece(s) passed." in err


def test_numbers_count_the_same_written_as_digits_or_words():
    assert text_error("Six spoons of peas.", "6 spoons of peas") == ("wer", 0.0)
    assert text_error("The NASA team won 2 games.", "the nasa team won two games") == ("wer", 0.0)
    assert text_error("我有2个苹果。", "我有两个苹果") == ("cer", 0.0)
